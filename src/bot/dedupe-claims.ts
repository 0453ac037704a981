import type { Cache } from "../cache/cache";

/**
 * The de-dup SET NX of inbound events, batched: keys claimed while a batch is out go together in the
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
/**
 * While claims keep coming (the last batch went out less than BUSY_MS ago), a batch lingers this long
 * for more to join: callbacks arrive a fraction of a millisecond apart, faster than a batch is
 * answered only under heavy load, so without it most batches held one key. A first claim after a
 * quiet spell goes out on the next turn of the event loop.
 */
const LINGER_MS = 2;
const BUSY_MS = 20;

export function createDedupeClaims(cache: Cache, ttlMs: number, opts: { maxBatch?: number; maxInFlight?: number; lingerMs?: number } = {}): DedupeClaims {
  const maxBatch = opts.maxBatch ?? MAX_BATCH;
  const maxInFlight = opts.maxInFlight ?? MAX_IN_FLIGHT;
  const lingerMs = opts.lingerMs ?? LINGER_MS;
  let lastSentAt = -Infinity;
  let pending: Claim[] = [];
  let inFlight = 0;
  let scheduled = false;

  function send(batch: Claim[]) {
    inFlight += 1;
    lastSentAt = Date.now();
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

  // Claims made in the same turn of the event loop (callbacks parsed together) wait for each other;
  // while busy, a little longer (LINGER_MS), unless a full batch is already waiting.
  function kick() {
    if (scheduled || pending.length === 0 || inFlight >= maxInFlight) return;
    scheduled = true;
    if (lingerMs > 0 && pending.length < maxBatch && Date.now() - lastSentAt < BUSY_MS) setTimeout(flush, lingerMs);
    else setImmediate(flush);
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
