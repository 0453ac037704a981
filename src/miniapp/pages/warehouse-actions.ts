import type Router from "@koa/router";
import type { Context } from "koa";
import { z } from "zod";
import { DomainError } from "../../domain/errors";
import type { OrderView } from "../../domain/order-view";
import { inBody } from "../../http/parse";
import { loadVisibleOrder } from "../access";
import type { PageContext } from "../page";
import { formOf, orderIdOf, viewerOf } from "../page";

const ShipForm = z.object({
  carrier: z.string().trim().min(1, "the carrier is required").max(64),
  trackingNo: z.string().trim().regex(/^[A-Za-z0-9-]{4,40}$/, "must be 4–40 letters, digits or -"),
});

/**
 * Per-line quantities from the form's qty_<line id> fields, by sku; a field that is not a whole
 * number is refused naming it, and lines left out count as 0.
 */
function quantities(ctx: Context, view: OrderView): Array<{ sku: string; qty: number }> {
  const body = (ctx.request.body ?? {}) as Record<string, unknown>;
  return view.lines.map((l) => {
    const raw = body[`qty_${l.id}`];
    const text = typeof raw === "string" ? raw.trim() : raw === undefined ? "0" : "";
    if (!/^\d{1,7}$/.test(text)) throw new DomainError("validation_failed", "must be a whole number", { path: `body.qty_${l.id}` });
    return { sku: l.sku, qty: Number(text) };
  });
}

/** The warehouse's steps as form POSTs, each through the fulfilment services, answered with a redirect. */
export function warehouseActionPages(router: Router, { deps }: PageContext): void {
  const screen = (id: number, done: string) => `/m/warehouse/orders/${id}?done=${done}`;

  router.post("/warehouse/orders/:id/start", async function startPick(ctx) {
    const viewer = viewerOf(ctx);
    const view = await loadVisibleOrder(deps, viewer, orderIdOf(ctx));
    await deps.services.startPicking({ orderId: view.id }, viewer.actor);
    ctx.redirect(screen(view.id, "picking"));
  });

  router.post("/warehouse/orders/:id/picks", async function savePicks(ctx) {
    const viewer = viewerOf(ctx);
    const view = await loadVisibleOrder(deps, viewer, orderIdOf(ctx));
    const lines = quantities(ctx, view);
    await inBody(deps.services.confirmPicked({ orderId: view.id, lines }, viewer.actor));
    // "Save and pack" in one tap when every line is fully picked and the picker asked for it.
    const body = ctx.request.body as Record<string, unknown>;
    if (body.pack === "1") {
      await deps.services.packOrder({ orderId: view.id }, viewer.actor);
      return void ctx.redirect(screen(view.id, "packed"));
    }
    ctx.redirect(screen(view.id, "picked"));
  });

  router.post("/warehouse/orders/:id/pack", async function pack(ctx) {
    const viewer = viewerOf(ctx);
    const view = await loadVisibleOrder(deps, viewer, orderIdOf(ctx));
    await deps.services.packOrder({ orderId: view.id }, viewer.actor);
    ctx.redirect(screen(view.id, "packed"));
  });

  router.post("/warehouse/orders/:id/ship", async function ship(ctx) {
    const viewer = viewerOf(ctx);
    const view = await loadVisibleOrder(deps, viewer, orderIdOf(ctx));
    const form = formOf(ShipForm, ctx);
    const lines = quantities(ctx, view).filter((l) => l.qty > 0);
    if (lines.length === 0) throw new DomainError("validation_failed", "nothing to ship", { path: "body.lines" });
    await inBody(deps.services.shipOrder({ orderId: view.id, carrier: form.carrier, trackingNo: form.trackingNo, lines }, viewer.actor));
    ctx.redirect(screen(view.id, "shipped"));
  });
}
