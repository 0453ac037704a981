import type { Actor } from "../domain/roles";
import type { OrderView } from "../domain/order-view";
import type { ServiceDeps } from "./deps";
import { placeOrders, type PlaceOrderInput, type PlaceOrderRequest } from "./place-order";

/** Enough to carry a burst in a few transactions, small enough to keep each transaction short. */
export const MAX_BATCH = 64;

/**
 * Batches being written at once: while one waits on the database another is being prepared, and both
 * lock the hot stock rows only from their reservation to their commit.
 */
export const MAX_WRITING = 1;

interface Waiting extends PlaceOrderRequest {
  resolve(view: OrderView): void;
  reject(err: unknown): void;
}

/**
 * Group commit for new orders. An order arriving while the intake is not busy is written at once, on
 * its own; orders arriving while it is busy wait and then go together in the next transaction
 * (placeOrders). Under load that turns many small transactions contending for the same hot stock
 * rows into a few larger ones; when quiet it adds no delay. One intake per app (built in createServices).
 */
export function createOrderIntake(deps: ServiceDeps, opts: { maxBatch?: number; maxWriting?: number } = {}) {
  const maxBatch = opts.maxBatch ?? MAX_BATCH;
  const maxWriting = opts.maxWriting ?? MAX_WRITING;
  const queue: Waiting[] = [];
  let writing = 0;

  function next(): void {
    if (writing >= maxWriting || queue.length === 0) return;
    writing++;
    const batch = queue.splice(0, maxBatch);
    // The next batch may start as soon as this one is committed; reading the views back does not hold it.
    const done = () => {
      writing--;
      next();
    };
    placeOrders(deps, batch, done).then(
      (outcomes) => outcomes.forEach((o, i) => (o.ok ? batch[i].resolve(o.view) : batch[i].reject(o.error))),
      (err: unknown) => batch.forEach((w) => w.reject(err)),
    );
  }

  return {
    place(input: PlaceOrderInput, actor: Actor): Promise<OrderView> {
      return new Promise<OrderView>((resolve, reject) => {
        queue.push({ input, actor, traceId: deps.trace.current(), resolve, reject });
        next();
      });
    },
  };
}
