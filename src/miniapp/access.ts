import { assertMayViewOrder } from "../domain/order-access";
import type { OrderView } from "../domain/order-view";
import type { MiniAppUser } from "../services/load-viewer";
import type { MiniAppDeps } from "./deps";

/** The order if this person may open it; not_found or forbidden otherwise (the page says which). */
export async function loadVisibleOrder(deps: MiniAppDeps, viewer: MiniAppUser, orderId: number): Promise<OrderView> {
  const [view, approverIds] = await Promise.all([deps.services.loadOrderView(orderId), deps.services.orderApproverIds(orderId)]);
  assertMayViewOrder(viewer, { salesRepId: view.salesRep?.id ?? null }, approverIds);
  return view;
}

/** A flash message named in the query after a form redirected: only keys of ours are shown. */
export const FLASHES = ["saved", "submitted", "approved", "rejected", "cancelled", "picking", "picked", "packed", "shipped"] as const;
