import crypto from "node:crypto";
import type { InboundEvent } from "../channels/channel";
import type { ServiceDeps } from "../services/deps";

/** One typed line on its way to an order line: matched to a product, or waiting for a choice. */
export interface PendingLine {
  product: string;
  qty: number;
  unitPriceFen: number | null;
  productId: number | null;
  /** The product ids offered when the name was ambiguous; a choice must be one of them. */
  options?: number[];
}

/** A typed order while the bot asks which customer or product was meant. */
export interface PendingOrder {
  id: string;
  customer: string | null;
  customerId: number | null;
  customerOptions?: number[];
  lines: PendingLine[];
  /** Set once the draft exists, so a late tap on an old choice card shows it instead of a second order. */
  orderId?: number;
}

const PENDING_TTL_MS = 30 * 60 * 1000;

const keyOf = (userId: number, id: string) => `bot:pending:${userId}:${id}`;

/**
 * Derived from the event that started the order, so handling that event again reuses the same
 * pending entry and the same order idempotency key instead of starting a second order.
 */
export function pendingIdFor(event: InboundEvent): string {
  return crypto.createHash("sha256").update(`${event.platform}:${event.key}`).digest("hex").slice(0, 16);
}

export async function savePending(deps: ServiceDeps, userId: number, pending: PendingOrder): Promise<void> {
  await deps.cache.set(keyOf(userId, pending.id), JSON.stringify(pending), PENDING_TTL_MS);
}

/** The pending order, or null when it expired or never was (a forged or very old card). */
export async function loadPending(deps: ServiceDeps, userId: number, id: string): Promise<PendingOrder | null> {
  if (!/^[0-9a-f]{16}$/.test(id)) return null;
  const raw = await deps.cache.get(keyOf(userId, id));
  return raw ? (JSON.parse(raw) as PendingOrder) : null;
}

/** True when the bot had to ask something, i.e. the order was kept in the cache between messages. */
export function wasAsked(pending: PendingOrder): boolean {
  return pending.customerOptions !== undefined || pending.lines.some((l) => l.options !== undefined);
}
