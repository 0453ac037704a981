import { Op } from "sequelize";
import { DomainError } from "../../domain/errors";
import type { OrderView } from "../../domain/order-view";
import { isUniqueViolation } from "../../db/sequelize";
import type { ServiceDeps } from "../deps";
import type { PlaceOrderInput, PlaceOrderOutcome, PlaceOrderRequest } from "../place-order";
import { loadOrderView } from "./load-order";

/** Requests whose idempotency key already names an order are answered with it; the rest go on. */
export async function splitRepeats(
  deps: ServiceDeps,
  requests: PlaceOrderRequest[],
  outcomes: Array<PlaceOrderOutcome | undefined>,
  followers: Array<{ index: number; key: string }>,
): Promise<number[]> {
  const keys = [...new Set(requests.flatMap((r) => (r.input.idempotencyKey ? [r.input.idempotencyKey] : [])))];
  const earlier = keys.length
    ? await deps.db.models.Order.findAll({ where: { idempotencyKey: { [Op.in]: keys } }, attributes: ["idempotencyKey"] })
    : [];
  const used = new Set(earlier.map((o) => o.idempotencyKey));
  const leaders = new Set<string>();
  const fresh: number[] = [];
  for (const [index, r] of requests.entries()) {
    const key = r.input.idempotencyKey ?? null;
    if (key && used.has(key)) outcomes[index] = await attempt(async () => (await sameOrder(deps, key, r.input))!);
    else if (key && leaders.has(key)) followers.push({ index, key });
    else {
      if (key) leaders.add(key);
      fresh.push(index);
    }
  }
  return fresh;
}

/** Two identical retries raced and this one lost on the idempotency key: it returns the winner's order. */
export async function afterFailure(deps: ServiceDeps, input: PlaceOrderInput, err: unknown): Promise<PlaceOrderOutcome> {
  const key = input.idempotencyKey ?? null;
  if (key && isUniqueViolation(err)) {
    const earlier = await attempt(async () => sameOrder(deps, key, input));
    if (!earlier.ok || earlier.view) return earlier as PlaceOrderOutcome;
  }
  return { ok: false, error: err };
}

/**
 * The order an earlier request with this key created, or null when there is none; the same key on a
 * different order is a conflict.
 */
export async function sameOrder(deps: ServiceDeps, key: string, input: PlaceOrderInput): Promise<OrderView | null> {
  const existing = await deps.db.models.Order.findOne({ where: { idempotencyKey: key }, attributes: ["id"] });
  if (!existing) return null;
  const view = await loadOrderView(deps, existing.id);
  const sameCustomer =
    (input.customerId ?? null) === view.customer.id || (input.customerCode ?? null) === view.customer.code;
  const sameLines =
    view.lines.length === input.lines.length &&
    input.lines.every((l, i) => {
      const v = view.lines[i];
      return (l.sku ?? "").toUpperCase() === v.sku.toUpperCase() || l.productId === v.productId
        ? l.qty === v.qty && (l.unitPriceFen == null || l.unitPriceFen === v.unitPriceFen)
        : false;
    });
  if (!sameCustomer || !sameLines) {
    throw new DomainError("idempotency_conflict", "this Idempotency-Key was already used for a different order", {
      orderId: view.id,
      orderNo: view.orderNo,
    });
  }
  return view;
}

export async function attempt<T>(fn: () => Promise<T>): Promise<{ ok: true; view: T } | { ok: false; error: unknown }> {
  try {
    return { ok: true, view: await fn() };
  } catch (error) {
    return { ok: false, error };
  }
}

export function attemptSync(fn: () => void, onError: (err: unknown) => void): boolean {
  try {
    fn();
    return true;
  } catch (err) {
    onError(err);
    return false;
  }
}
