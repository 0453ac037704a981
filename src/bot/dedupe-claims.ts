import type { Cache } from "../cache/cache";

/**
 * The de-dup SET NX of inbound events, batched where the cache is a round trip away (Redis; the
 * in-process cache answers each claim at once): keys claimed while a batch is out go together in the
 * next one, so a burst of callbacks costs one cache round trip per batch (one EVALSHA on Redis) instead
 * of a command and a socket write each. On bench:wecom profiles the per-callback Redis writes were about
 * a tenth of the callback's CPU. Order is kept: a key claimed twice is won by its first claim.
 */
export interface DedupeClaims {
  /** True when this caller saw `key` first (and now holds it for the TTL). */
  claim(key: string): Promise<boolean>;
}

interface Claim {
  key: string;
  resolve(first: boolean): void;
  reject(err: unknown): void;
}

/** Keys per round trip: a Lua loop of this many SETs stays well under a millisecond inside Redis. */
const MAX_BATCH = 256;
/** One batch at a time: Redis answers a connection's commands in order anyway; waiting lets more join. */
const MAX_IN_FLIGHT = 1;

export function createDedupeClaims(cache: Cache, ttlMs: number, opts: { maxBatch?: number; maxInFlight?: number } = {}): DedupeClaims {
  // The in-process cache has no round trip to save: a claim is a map lookup, answered at once. Batching it
  // only made every event wait a turn of the event loop before its INSERT could join a batch.
  if (cache.kind === "memory") return { claim: (key) => cache.setIfAbsent(key, "1", ttlMs) };
  const maxBatch = opts.maxBatch ?? MAX_BATCH;
  const maxInFlight = opts.maxInFlight ?? MAX_IN_FLIGHT;
  let pending: Claim[] = [];
  let inFlight = 0;
  let scheduled = false;

  function send(batch: Claim[]) {
    inFlight += 1;
    cache.setIfAbsentMany(batch.map((c) => c.key), "1", ttlMs).then(
      (firsts) => batch.forEach((c, i) => c.resolve(firsts[i] === true)),
      (err: unknown) => batch.forEach((c) => c.reject(err)),
    ).finally(() => {
      inFlight -= 1;
      kick();
    });
  }

  function flush() {
    scheduled = false;
    while (pending.length > 0 && inFlight < maxInFlight) {
      const batch = pending.length <= maxBatch ? pending : pending.slice(0, maxBatch);
      pending = pending.length <= maxBatch ? [] : pending.slice(maxBatch);
      send(batch);
    }
  }

  // Claims made in the same turn of the event loop (callbacks parsed together) wait for each other, and
  // those made while a batch is out wait for it, but for nothing more (no linger to fill a batch): a
  // sender that waits for its answers before sending more (DingTalk's Stream window, a connection's next
  // callback) would only be slowed down.
  function kick() {
    if (scheduled || pending.length === 0 || inFlight >= maxInFlight) return;
    scheduled = true;
    setImmediate(flush);
  }

  return {
    claim(key) {
      return new Promise<boolean>((resolve, reject) => {
        pending.push({ key, resolve, reject });
        kick();
      });
    },
  };
}
