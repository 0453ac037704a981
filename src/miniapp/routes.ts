import { bodyParser } from "@koa/bodyparser";
import Router from "@koa/router";
import { DomainError } from "../domain/errors";
import { rateLimit } from "../http/middleware/rate-limit";
import { approvalPages } from "./pages/approvals";
import { adminPages } from "./pages/admin";
import { adminImportPages } from "./pages/admin-import";
import { catalogApi } from "./pages/catalog-api";
import { dashboardPages } from "./pages/dashboard";
import { homePages } from "./pages/home";
import { orderActionPages } from "./pages/order-actions";
import { orderDetailPages } from "./pages/order-detail";
import { orderFormPages } from "./pages/order-form";
import { orderListPages } from "./pages/order-list";
import { orderSaveApi } from "./pages/order-save-api";
import { warehousePages } from "./pages/warehouse";
import { warehouseActionPages } from "./pages/warehouse-actions";
import { requireCsrf } from "./csrf";
import type { MiniAppDeps } from "./deps";
import { miniAppErrors } from "./error-page";
import { createRender } from "./render";
import { requireViewer } from "./viewer";

/**
 * /m: the H5 mini-app. Server-rendered pages; every request is signed in (requireViewer), every POST
 * carries a CSRF token, and every refusal is a page in the viewer's language (miniAppErrors).
 */
export function miniAppRoutes(deps: MiniAppDeps): Router {
  const log = deps.log.child({ module: "miniapp" });
  const render = createRender(deps.viewsDir, deps.assets, deps.sessionSecret);
  const router = new Router({ prefix: "/m" });
  router.use(miniAppErrors(deps, render, log));
  // Before the body is read: a flood of form posts costs a counter increment each, nothing more.
  router.use(
    rateLimit(deps.limiter, {
      name: "miniapp-post",
      perMinute: deps.postsPerMinute,
      when: (ctx) => ctx.method === "POST",
      keyOf: (ctx) => {
        const session = deps.sessions.read(ctx);
        return session ? `user:${session.userId}` : `ip:${ctx.ip}`;
      },
    }),
  );
  router.use(bodyParser({ enableTypes: ["form", "json"], formLimit: "32kb", jsonLimit: "64kb", encoding: "utf-8", onError: badBody }));
  router.use(requireViewer(deps));
  router.use(requireCsrf(deps.sessionSecret));

  const ctx = { deps, render, log };
  homePages(router, ctx);
  orderListPages(router, ctx);
  orderFormPages(router, ctx);
  orderSaveApi(router, ctx);
  catalogApi(router, ctx);
  orderDetailPages(router, ctx);
  orderActionPages(router, ctx);
  approvalPages(router, ctx);
  warehousePages(router, ctx);
  warehouseActionPages(router, ctx);
  dashboardPages(router, ctx);
  adminPages(router, ctx);
  adminImportPages(router, ctx);
  // Anything else under /m is a page that does not exist: the same refusal page, not the API's JSON.
  router.get("/{*rest}", async () => {
    throw new DomainError("not_found", "no such page");
  });
  return router;
}

function badBody(): never {
  throw new DomainError("validation_failed", "the form could not be read", { path: "body" });
}
