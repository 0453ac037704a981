import type Router from "@koa/router";
import { redactOrderView, unpricedLine, unpricedRow, visibleFields } from "../../domain/field-visibility";
import { t } from "../../domain/i18n";
import type { OrderView } from "../../domain/order-view";
import { assertMayPerform } from "../../domain/permissions";
import { isPriorityCustomer } from "../../domain/order-access";
import type { OrderStatus } from "../../domain/order-state";
import type { MiniAppDeps } from "../deps";
import type { PageContext } from "../page";
import { localeOfCtx, orderIdOf, viewerOf } from "../page";
import { jsonIsland } from "../render";
import { loadVisibleOrder } from "../access";
import { flashOf } from "./order-detail";

const STAGES: Record<string, OrderStatus[]> = { pick: ["approved", "picking"], ship: ["packed", "partially_shipped"] };

/**
 * Each line with its barcode, what is left to pick or ship, and the form field that carries its quantity.
 * Without prices whoever looks: picking, packing and the slip never need them.
 */
async function pickLines(deps: MiniAppDeps, view: OrderView) {
  const products = await deps.services.listProductsByIds(view.lines.map((l) => l.productId));
  const barcodeOf = new Map(products.map((p) => [p.id, p.barcode]));
  return view.lines.map((l) => ({
    ...unpricedLine(l),
    barcode: barcodeOf.get(l.productId) ?? null,
    left: l.qty - l.shippedQty,
    field: `qty_${l.id}`,
  }));
}

/** GET /m/warehouse (the queue), /m/warehouse/orders/:id (pick, pack, ship) and its packing slip. */
export function warehousePages(router: Router, { deps, render }: PageContext): void {
  router.get("/warehouse", async function warehouseQueue(ctx) {
    const viewer = viewerOf(ctx);
    assertMayPerform(viewer.actor, "fulfil", null);
    const stage = typeof ctx.query.stage === "string" && STAGES[ctx.query.stage] ? ctx.query.stage : "";
    const orders = await deps.services.listWarehouseQueue({ statuses: stage ? STAGES[stage] : undefined });
    render(ctx, "m/warehouse.njk", { title: t(localeOfCtx(ctx), "wh.queue"), orders: orders.map(unpricedRow), stage, now: Date.now() });
  });

  router.get("/warehouse/orders/:id", async function pickScreen(ctx) {
    const viewer = viewerOf(ctx);
    assertMayPerform(viewer.actor, "fulfil", null);
    const locale = localeOfCtx(ctx);
    const view = await loadVisibleOrder(deps, viewer, orderIdOf(ctx));
    const lines = await pickLines(deps, view);
    const scan = { platform: viewer.platform, lines: lines.map((l) => ({ field: l.field, barcode: l.barcode, sku: l.sku, name: l.name, left: l.left, picked: l.pickedQty })), messages: { wrong: t(locale, "wh.wrongItem"), tooMany: t(locale, "wh.tooMany"), ok: t(locale, "wh.pickedOk") } };
    render(ctx, "m/pick.njk", {
      title: view.orderNo,
      back: "/m/warehouse",
      order: redactOrderView(view, visibleFields(viewer.actor)),
      lines,
      priority: isPriorityCustomer(view.customer.level),
      scanJson: jsonIsland(scan),
      flash: flashOf(ctx.query.done, locale),
    });
  });

  router.get("/warehouse/orders/:id/slip", async function packingSlip(ctx) {
    const viewer = viewerOf(ctx);
    assertMayPerform(viewer.actor, "fulfil", null);
    const view = await loadVisibleOrder(deps, viewer, orderIdOf(ctx));
    render(ctx, "m/slip.njk", { title: `${t(localeOfCtx(ctx), "wh.slip")} ${view.orderNo}`, order: redactOrderView(view, visibleFields(viewer.actor)), lines: await pickLines(deps, view), printedAt: new Date().toISOString() });
  });
}
