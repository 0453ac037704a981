import type Router from "@koa/router";
import type { Context } from "koa";
import { z } from "zod";
import { parse } from "../../http/parse";
import type { PageContext } from "../page";
import { localeOfCtx, viewerOf } from "../page";
import { describeReason } from "../../domain/approval-reasons";
import { DomainError } from "../../domain/errors";
import { mayPerform } from "../../domain/permissions";
import { visibleFields } from "../../domain/field-visibility";
import { csrfToken } from "../csrf";
import { QuoteBody } from "./order-schemas";

const SearchQuery = z.object({ q: z.string().trim().max(64).default("") });

/**
 * The order form's lookups as JSON: customers, products (with live available stock), the priced and
 * routed quote, and a fresh CSRF token for a queued order sent after the session was renewed.
 */
export function catalogApi(router: Router, { deps }: PageContext): void {
  // Customer search and quotes serve only the order form: whoever may not place orders gets neither.
  const assertPlaces = (ctx: Context) => {
    if (!mayPerform(viewerOf(ctx).actor, "place", null)) throw new DomainError("forbidden", "only people who place orders use the order form's lookups");
  };

  router.get("/api/customers", async function searchCustomers(ctx) {
    assertPlaces(ctx);
    const { q } = parse(SearchQuery, ctx.query, "query");
    const page = await deps.services.searchCustomers({ q, limit: 20 });
    ctx.set("Cache-Control", "no-store");
    ctx.body = { items: page.map((c) => ({ code: c.code, name: c.name, level: c.level })) };
  });

  router.get("/api/products", async function searchProducts(ctx) {
    const { q } = parse(SearchQuery, ctx.query, "query");
    const { prices } = visibleFields(viewerOf(ctx).actor);
    const page = await deps.services.listProducts({ q: q || undefined, limit: 20 });
    ctx.set("Cache-Control", "no-store");
    ctx.body = {
      items: page.items
        .filter((p) => p.active)
        .map((p) => ({ sku: p.sku, name: p.name, unit: p.unit, barcode: p.barcode, available: p.stock.available, ...(prices ? { listPriceFen: p.listPriceFen, floorPriceFen: p.floorPriceFen } : {}) })),
    };
  });

  router.post("/api/quote", async function quote(ctx) {
    assertPlaces(ctx);
    const viewer = viewerOf(ctx);
    // A quote is prices, credit and approval reasons from top to bottom.
    if (!visibleFields(viewer.actor).prices) throw new DomainError("forbidden", "prices are not shown to your role");
    const body = parse(QuoteBody, ctx.request.body, "body");
    const quote = await deps.services.quoteOrder({ customerCode: body.customerCode || undefined, lines: body.lines, salesRepId: viewer.id, orderId: body.orderId });
    const words = (reasons: Parameters<typeof describeReason>[0][]) => reasons.map((r) => describeReason(r, localeOfCtx(ctx)));
    const route = quote.route && { ...quote.route, reasonTexts: words(quote.route.reasons), steps: quote.route.steps.map((s) => ({ ...s, reasonTexts: words(s.reasons) })) };
    ctx.body = { ...quote, route };
  });

  router.get("/api/csrf", async function freshCsrf(ctx) {
    ctx.set("Cache-Control", "no-store");
    ctx.body = { token: csrfToken(deps.sessionSecret, ctx) };
  });
}
