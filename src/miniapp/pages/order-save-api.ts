import type Router from "@koa/router";
import { inBody, parse } from "../../http/parse";
import { loadVisibleOrder } from "../access";
import type { PageContext } from "../page";
import { orderIdOf, viewerOf } from "../page";
import { CreateOrderBody, ReviseOrderBody } from "./order-schemas";

const saved = (view: { id: number; orderNo: string; status: string; version: number }) => ({
  id: view.id,
  orderNo: view.orderNo,
  status: view.status,
  version: view.version,
  url: `/m/orders/${view.id}`,
});

/**
 * The order form saves as JSON (it may have been filled offline and sent later): a new order with an
 * idempotency key, so a queued send that is retried places it once; an edit at the version it was
 * opened on, so two editors never overwrite each other.
 */
export function orderSaveApi(router: Router, { deps }: PageContext): void {
  router.post("/api/orders", async function createFromForm(ctx) {
    const viewer = viewerOf(ctx);
    const body = parse(CreateOrderBody, ctx.request.body, "body");
    const view = await inBody(
      deps.services.placeOrder(
        {
          customerCode: body.customerCode,
          lines: body.lines,
          note: body.note || null,
          submit: body.submit,
          // Scoped to the person: one rep's key can never return another rep's order.
          idempotencyKey: `m:${viewer.id}:${body.idempotencyKey}`,
          source: "miniapp",
        },
        viewer.actor,
      ),
    );
    ctx.status = 201;
    ctx.body = saved(view);
  });

  router.post("/api/orders/:id", async function reviseFromForm(ctx) {
    const viewer = viewerOf(ctx);
    const current = await loadVisibleOrder(deps, viewer, orderIdOf(ctx));
    const body = parse(ReviseOrderBody, ctx.request.body, "body");
    let view = await inBody(
      deps.services.reviseOrder(
        { orderId: current.id, expectedVersion: body.expectedVersion, customerCode: body.customerCode, lines: body.lines, note: body.note || null },
        viewer.actor,
      ),
    );
    if (body.submit) view = await deps.services.submitOrder({ orderId: view.id, expectedVersion: view.version }, viewer.actor);
    ctx.body = saved(view);
  });
}
