import type Router from "@koa/router";
import { z } from "zod";
import { loadVisibleOrder } from "../access";
import type { PageContext } from "../page";
import { backTo, formOf, orderIdOf, viewerOf } from "../page";

const SubmitForm = z.object({ version: z.coerce.number().int().nonnegative().optional() });
const CancelForm = z.object({ reason: z.string().trim().min(1, "a cancellation needs a reason").max(200) });
const DecisionForm = z.object({
  decision: z.enum(["approve", "reject"]),
  comment: z.string().trim().max(500).optional(),
  stepId: z.coerce.number().int().positive().optional(),
});

/**
 * The order's buttons as form POSTs (submit, cancel, approve/reject), each answered with a redirect
 * so a reload never repeats it. The same services as the chat bot and the API decide.
 */
export function orderActionPages(router: Router, { deps }: PageContext): void {
  router.post("/orders/:id/submit", async function submitFromPage(ctx) {
    const viewer = viewerOf(ctx);
    const view = await loadVisibleOrder(deps, viewer, orderIdOf(ctx));
    const form = formOf(SubmitForm, ctx);
    await deps.services.submitOrder({ orderId: view.id, expectedVersion: form.version }, viewer.actor);
    ctx.redirect(`/m/orders/${view.id}?done=submitted`);
  });

  router.post("/orders/:id/cancel", async function cancelFromPage(ctx) {
    const viewer = viewerOf(ctx);
    const view = await loadVisibleOrder(deps, viewer, orderIdOf(ctx));
    const form = formOf(CancelForm, ctx);
    await deps.services.cancelOrder({ orderId: view.id, reason: form.reason }, viewer.actor);
    ctx.redirect(`/m/orders/${view.id}?done=cancelled`);
  });

  router.post("/orders/:id/decision", async function decideFromPage(ctx) {
    const viewer = viewerOf(ctx);
    const view = await loadVisibleOrder(deps, viewer, orderIdOf(ctx));
    const form = formOf(DecisionForm, ctx);
    await deps.services.decideApproval({ orderId: view.id, stepId: form.stepId, decision: form.decision, comment: form.comment ?? null }, viewer.actor);
    const done = form.decision === "approve" ? "approved" : "rejected";
    const to = backTo(ctx, `/m/orders/${view.id}`);
    ctx.redirect(`${to}${to.includes("?") ? "&" : "?"}done=${done}`);
  });
}
