import { AsyncLocalStorage } from "node:async_hooks";
import crypto from "node:crypto";

/**
 * The trace id of the work in progress: an HTTP request's id, or the id an inbound event carries from
 * its callback (or Stream frame) to the bot's handling and on to the outbox rows it writes, whose
 * deliveries log it again.
 *
 * Why AsyncLocalStorage and not a parameter: the id has to reach enqueue() and the bot's replies from
 * every route, bot action and service that may write an outbox row — dozens of signatures that know
 * nothing of tracing. The store is created per app (createApp) and reached through ServiceDeps, never
 * a module singleton, so apps built side by side in one process (tests) never see each other's ids.
 */
export interface Trace {
  current(): string | undefined;
  /** Runs `fn` with `id` as the current trace id: `null` runs it with none, `undefined` under the current one. */
  run<T>(id: string | null | undefined, fn: () => T): T;
}

export function createTrace(): Trace {
  const store = new AsyncLocalStorage<string>();
  return {
    current: () => store.getStore(),
    run: (id, fn) => (id ? store.run(id, fn) : id === undefined ? fn() : store.exit(fn)),
  };
}

/** A fresh id for work no request started (a Stream frame, a job run). */
export function newTraceId(): string {
  return crypto.randomUUID();
}
