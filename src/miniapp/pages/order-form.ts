import type Router from "@koa/router";
import { DomainError } from "../../domain/errors";
import { statusLabel, t, type Locale } from "../../domain/i18n";
import { EDITABLE_STATUSES } from "../../domain/order-state";
import type { OrderView } from "../../domain/order-view";
import { assertMayPerform } from "../../domain/permissions";
import { loadVisibleOrder } from "../access";
import type { PageContext } from "../page";
import { localeOfCtx, orderIdOf, viewerOf } from "../page";
import { jsonIsland } from "../render";

/** The words the form's script shows, in the viewer's language (all user-visible text goes through i18n). */
function formMessages(locale: Locale) {
  const keys = ["form.available", "form.short", "form.belowFloor", "form.discount", "form.listPrice", "form.autoApprove", "form.queued", "form.offline", "form.sending", "form.restored", "form.noLines", "form.noCustomer", "form.notFound", "form.failed", "form.noResults", "field.route", "field.approver"] as const;
  return Object.fromEntries(keys.map((k) => [k, t(locale, k)]));
}

/** The form's starting state: empty for a new order, the saved lines for an edit. */
function initialState(view: OrderView | null) {
  if (!view) return { orderId: null, version: null, customer: null, lines: [], note: "" };
  return {
    orderId: view.id,
    version: view.version,
    customer: { code: view.customer.code, name: view.customer.name },
    lines: view.lines.map((l) => ({ sku: l.sku, name: l.name, unit: l.unit, qty: l.qty, price: (l.unitPriceFen / 100).toFixed(2), listPriceFen: l.listPriceFen })),
    note: view.note ?? "",
  };
}

/** GET /m/orders/new and /m/orders/:id/edit: the order form (Alpine); it saves through /m/api/orders. */
export function orderFormPages(router: Router, { deps, render }: PageContext): void {
  router.get("/orders/new", async function newOrderForm(ctx) {
    const viewer = viewerOf(ctx);
    assertMayPerform(viewer.actor, "place", null);
    const locale = localeOfCtx(ctx);
    render(ctx, "m/order-form.njk", formPage(locale, viewer.platform, null));
  });

  router.get("/orders/:id/edit", async function editOrderForm(ctx) {
    const viewer = viewerOf(ctx);
    const locale = localeOfCtx(ctx);
    const view = await loadVisibleOrder(deps, viewer, orderIdOf(ctx));
    assertMayPerform(viewer.actor, "revise", { salesRepId: view.salesRep?.id ?? null });
    if (!EDITABLE_STATUSES.includes(view.status)) {
      throw new DomainError("invalid_transition", t(locale, "err.notEditable", { status: statusLabel(view.status, locale) }), { from: view.status, action: "revise", localized: true });
    }
    render(ctx, "m/order-form.njk", formPage(locale, viewer.platform, view));
  });
}

function formPage(locale: Locale, platform: string, view: OrderView | null) {
  return {
    title: view ? t(locale, "form.editTitle", { orderNo: view.orderNo }) : t(locale, "form.newTitle"),
    back: view ? `/m/orders/${view.id}` : "/m",
    platform,
    initJson: jsonIsland({ state: initialState(view), messages: formMessages(locale), platform }),
  };
}
