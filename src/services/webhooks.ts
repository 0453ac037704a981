import crypto from "node:crypto";
import { DomainError } from "../domain/errors";
import { SYSTEM_ACTOR } from "../domain/roles";
import type { ServiceDeps } from "./deps";
import { recordAudit } from "./support/audit";
import type { OrderEvent } from "./support/notify";

export const ORDER_EVENTS: readonly OrderEvent[] = [
  "order.created",
  "order.submitted",
  "order.approved",
  "order.rejected",
  "order.revised",
  "order.cancelled",
  "order.picking",
  "order.packed",
  "order.shipped",
  "order.delivered",
  "order.paid",
  "order.completed",
];

/** Subscribes an ERP endpoint to order events; the signing secret is returned once. */
export async function createWebhook(deps: ServiceDeps, input: { url: string; events: string[] }) {
  let url: URL;
  try {
    url = new URL(input.url);
  } catch {
    throw new DomainError("validation_failed", "url must be an absolute http(s) URL", { path: "url" });
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new DomainError("validation_failed", "url must be http or https", { path: "url" });
  }
  const events = input.events.includes("*") ? ["*"] : [...new Set(input.events)];
  const unknown = events.filter((e) => e !== "*" && !(ORDER_EVENTS as readonly string[]).includes(e));
  if (events.length === 0 || unknown.length) {
    throw new DomainError("validation_failed", `unknown events: ${unknown.join(", ") || "(none given)"}; use ${ORDER_EVENTS.join(", ")} or *`, { path: "events" });
  }
  const secret = crypto.randomBytes(24).toString("base64url");
  const row = await deps.db.transaction(async (tx) => {
    const created = await deps.db.models.WebhookSubscription.create({ url: url.toString(), secret, events: events.join(",") }, { transaction: tx });
    await recordAudit(deps, tx, { entity: "api_key", entityId: `webhook:${created.id}`, action: "webhook_created", actor: SYSTEM_ACTOR, after: { url: url.toString(), events } });
    return created;
  });
  deps.memo.forget("webhooks");
  return { id: row.id, url: row.url, events, secret };
}

export async function listWebhooks(deps: ServiceDeps) {
  const rows = await deps.db.models.WebhookSubscription.findAll({ order: [["id", "ASC"]] });
  return rows.map((r) => ({ id: r.id, url: r.url, events: r.events.split(","), active: r.active }));
}

export async function removeWebhook(deps: ServiceDeps, id: number): Promise<boolean> {
  const [count] = await deps.db.models.WebhookSubscription.update({ active: false }, { where: { id, active: true } });
  deps.memo.forget("webhooks");
  return count === 1;
}
