import Router from "@koa/router";
import { DomainError } from "../../../domain/errors";
import type { Actor } from "../../../domain/roles";
import type { HttpDeps } from "../../deps";
import { inBody, parse } from "../../parse";
import {
  CancelBody,
  CreateOrderBody,
  DecisionBody,
  EmptyBody,
  IdempotencyHeaders,
  ListOrdersQuery,
  OrderIdParams,
  PaymentBody,
  PickBody,
  ShipmentBody,
  SubmitBody,
  toInstant,
} from "./schemas";

/** Width of audit_events.actor and the created_by columns. */
const AUDIT_ACTOR_MAX = 64;

/** /api/v1/orders: what an ERP or WMS does with orders. */
export function orderRoutes({ services, db }: HttpDeps): Router {
  const router = new Router({ prefix: "/orders" });
  const idOf = (params: unknown) => parse(OrderIdParams, params, "params").id;
  const body = (raw: unknown) => raw ?? {};

  router.post("/", async (ctx) => {
    const input = parse(CreateOrderBody, ctx.request.body, "body");
    const headers = parse(IdempotencyHeaders, { "idempotency-key": ctx.get("Idempotency-Key") || undefined }, "headers");
    const idempotencyKey = headers["idempotency-key"];
    const order = await inBody(services.placeOrder({ ...input, idempotencyKey, source: "api" }, ctx.state.actor));
    ctx.status = 201;
    ctx.body = order;
  });

  router.get("/", async (ctx) => {
    const q = parse(ListOrdersQuery, ctx.query, "query");
    ctx.body = await services.listOrders({
      status: q.status,
      customerCode: q.customerCode,
      from: q.from ? toInstant(q.from) : undefined,
      to: q.to ? toInstant(q.to) : undefined,
      search: q.q,
      cursor: q.cursor,
      limit: q.limit,
    });
  });

  router.get("/:id", async (ctx) => {
    const id = idOf(ctx.params);
    const [order, timeline] = await Promise.all([services.loadOrderView(id), services.loadOrderTimeline(id)]);
    ctx.body = { ...order, timeline };
  });

  router.post("/:id/submit", async (ctx) => {
    const input = parse(SubmitBody, body(ctx.request.body), "body");
    ctx.body = await services.submitOrder({ orderId: idOf(ctx.params), ...input }, ctx.state.actor);
  });

  router.post("/:id/cancel", async (ctx) => {
    const { reason } = parse(CancelBody, ctx.request.body, "body");
    ctx.body = await inBody(services.cancelOrder({ orderId: idOf(ctx.params), reason }, ctx.state.actor));
  });

  router.post("/:id/approvals", async (ctx) => {
    const orderId = idOf(ctx.params);
    const input = parse(DecisionBody, ctx.request.body, "body");
    const approver = await db.models.User.findByPk(input.approverId);
    if (!approver || !approver.active) {
      throw new DomainError("validation_failed", `unknown approver ${input.approverId}`, { path: "body.approverId" });
    }
    // The integration speaks for a named person; the audit trail records both, in its 64 characters.
    const speaksFor = `>user:${approver.id}`;
    const actor: Actor = {
      kind: "user",
      userId: approver.id,
      roles: approver.roles,
      label: `${(ctx.state.actor as Actor).label.slice(0, AUDIT_ACTOR_MAX - speaksFor.length)}${speaksFor}`,
    };
    ctx.body = await inBody(
      services.decideApproval({ orderId, stepId: input.stepId, decision: input.decision, comment: input.comment }, actor),
    );
  });

  router.post("/:id/start-picking", async (ctx) => {
    parse(EmptyBody, body(ctx.request.body), "body");
    ctx.body = await services.startPicking({ orderId: idOf(ctx.params) }, ctx.state.actor);
  });

  router.post("/:id/picks", async (ctx) => {
    const { lines } = parse(PickBody, ctx.request.body, "body");
    ctx.body = await inBody(services.confirmPicked({ orderId: idOf(ctx.params), lines }, ctx.state.actor));
  });

  router.post("/:id/pack", async (ctx) => {
    parse(EmptyBody, body(ctx.request.body), "body");
    ctx.body = await services.packOrder({ orderId: idOf(ctx.params) }, ctx.state.actor);
  });

  router.post("/:id/shipments", async (ctx) => {
    const input = parse(ShipmentBody, ctx.request.body, "body");
    ctx.status = 201;
    ctx.body = await inBody(services.shipOrder({ orderId: idOf(ctx.params), ...input }, ctx.state.actor));
  });

  router.post("/:id/deliver", async (ctx) => {
    parse(EmptyBody, body(ctx.request.body), "body");
    ctx.body = await services.deliverOrder({ orderId: idOf(ctx.params) }, ctx.state.actor);
  });

  router.post("/:id/payments", async (ctx) => {
    const input = parse(PaymentBody, ctx.request.body, "body");
    ctx.status = 201;
    ctx.body = await services.recordPayment(
      { orderId: idOf(ctx.params), amountFen: input.amountFen, paidAt: new Date(input.paidAt), method: input.method, reference: input.reference },
      ctx.state.actor,
    );
  });

  return router;
}
