import { Op } from "sequelize";
import { DomainError } from "../domain/errors";
import type { OrderView } from "../domain/order-view";
import type { ServiceDeps } from "./deps";
import { planRoute } from "./support/approval-round";
import { loadOrderView } from "./support/load-order";

/**
 * An order as its preview shows it: for a draft (or a rejected order being revised), the approval
 * route it *would* take if submitted now, with approvers and reasons; otherwise the order as it is.
 */
export async function loadPreviewView(deps: ServiceDeps, orderId: number): Promise<OrderView> {
  const view = await loadOrderView(deps, orderId);
  if (view.status !== "draft" && view.status !== "rejected") return view;
  const m = deps.db.models;
  const order = await m.Order.findByPk(orderId);
  const lines = await m.OrderLine.findAll({ where: { orderId } });
  if (!order) throw new DomainError("not_found", `order ${orderId} not found`, { orderId });
  try {
    const { route, approverIds } = await planRoute(deps, undefined, order, lines);
    const ids = [...new Set(approverIds.flat())];
    const users = ids.length ? await m.User.findAll({ where: { id: { [Op.in]: ids } }, attributes: ["id", "name"] }) : [];
    const nameOf = new Map(users.map((u) => [u.id, u.name]));
    return {
      ...view,
      approval: {
        round: view.approval.round,
        autoApproved: route.autoApproved,
        reasons: route.reasons,
        steps: route.steps.map((s, i) => ({
          id: 0,
          stepNo: s.stepNo,
          label: s.label,
          mode: s.mode,
          status: "waiting",
          approvers: approverIds[i].map((id) => ({ id, name: nameOf.get(id) ?? `#${id}` })),
          reasons: s.reasons,
          decisions: [],
          activatedAt: null,
          decidedAt: null,
        })),
      },
    };
  } catch (err) {
    // Nobody to approve it yet: the preview still shows; submitting will say why it cannot go ahead.
    if (err instanceof DomainError && err.code === "no_approver") return view;
    throw err;
  }
}
