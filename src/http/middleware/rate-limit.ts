import type { Context, Next } from "koa";
import type { Logger } from "pino";
import type { Cache } from "../../cache/cache";
import { DomainError } from "../../domain/errors";

const WINDOW_MS = 60_000;
/** A counter outlives its window by this much in the shared cache (clocks of instances differ a little). */
const COUNTER_TTL_MS = WINDOW_MS + 1000;
/** How often, at most, one counter is pushed to the shared cache (outside the near-the-limit zone). */
const DEFAULT_SYNC_MS = 100;
/** A push not answered by then is reported as a slow cache (nothing waits for it). */
const DEFAULT_TIMEOUT_MS = 250;
/** After a failed push, no push is tried for this long: a cache that is down is not asked thousands of times a second. */
const DEFAULT_RETRY_MS = 1000;
/** close() waits at most this long for the last pushes. */
const DEFAULT_CLOSE_MS = 2000;

/**
 * Fixed one-minute windows, counted here and shared through the cache (by every instance when the cache
 * is Redis). A request costs two map lookups and an addition: hits are counted locally per (name, key,
 * window) and pushed in the background with `cache.incrBy`, whose answer is the shared total.
 *
 * A hit is judged by (the shared total this instance last heard) + (its own hits not yet pushed or not
 * yet answered). With one instance that is exact: the (limit+1)-th hit of a window is refused. A counter
 * is pushed at most every syncMs while it has hits (by the hit itself, or by the background tick for the
 * last ones: unpushed hits wait at most ~2 × syncMs).
 *
 * Bounded overshoot with several instances: what this instance has not heard of yet is what the others
 * counted since its last sync — their unpushed hits plus what they pushed after it, i.e. roughly what
 * they take within one sync interval (two at the very worst: one unpushed there, one unheard here). A
 * window can let through that much more than the limit, no more. Near the limit (within a tenth of it,
 * widened by what the others added between our last two answers) every hit pushes at once, one push in
 * flight per counter, which narrows the overshoot to what the others take within one round trip under
 * steady traffic; a burst on an instance that had not heard of the key recently is judged on its stale
 * view until its first push is answered.
 *
 * Fails open: no request ever waits for the cache. When it errs or is slow, hits keep counting on this
 * instance (limits become per instance, better than none), pushes are retried after retryMs, and a
 * warning is logged at most once a minute. Counters of a past window are dropped whole at rollover.
 */
export interface RateLimiter {
  /**
   * Adds one to `name`/`key` in this minute's window and answers the count to judge by. `limit`, when
   * given, is the budget the caller compares with: near it the counter is synced at once.
   */
  hit(name: string, key: string, limit?: number): number;
  /** This minute's count without adding to it: the shared total last heard plus this instance's unpushed hits. */
  peek(name: string, key: string): number;
  /** Seconds until the current window ends (for Retry-After). */
  retryAfterSec(): number;
}

/** The limiter as its owner (the app) sees it: pushes the last counts on shutdown. */
export interface SharedRateLimiter extends RateLimiter {
  /** Pushes every unpushed hit now and waits for the answers (tests, shutdown). */
  flush(): Promise<void>;
  /** Stops the background sync after a last flush (bounded by closeMs). */
  close(): Promise<void>;
  /** How many (name, key) counters this window holds here (past windows are dropped whole). */
  trackedKeys(): number;
}

export interface RateLimiterOptions {
  now?: () => number;
  /** Push a counter at most this often (ms); the background tick runs this often. */
  syncMs?: number;
  /** A push unanswered this long is warned about as a slow cache. */
  timeoutMs?: number;
  /** After a failed push, wait this long before pushing again. */
  retryMs?: number;
  /** close() waits at most this long for the last pushes. */
  closeMs?: number;
}

interface Counter {
  readonly name: string;
  readonly cacheKey: string;
  readonly window: number;
  /** The shared total the cache last answered (it includes every push of ours it answered). */
  shared: number;
  /** What other instances had added between our last two answers: how far off `shared` may be by the next one. */
  drift: number;
  /** Pushed, not answered yet. */
  inFlight: number;
  /** Counted here, not pushed yet. */
  pending: number;
  /** When (limiter clock) the last push or read started. */
  syncedAt: number;
  busy: boolean;
  /** In the dirty list, waiting for the tick. */
  queued: boolean;
}

export function createRateLimiter(cache: Cache, log: Logger, opts: RateLimiterOptions = {}): SharedRateLimiter {
  const now = opts.now ?? Date.now;
  const syncMs = opts.syncMs ?? DEFAULT_SYNC_MS;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const retryMs = opts.retryMs ?? DEFAULT_RETRY_MS;
  const closeMs = opts.closeMs ?? DEFAULT_CLOSE_MS;

  let window = Math.floor(now() / WINDOW_MS);
  /** name → key → counter, for `window` only: a new window replaces the whole map, so old keys cannot pile up. */
  let counters = new Map<string, Map<string, Counter>>();
  let size = 0;
  /** Counters with unpushed hits, each once. */
  let dirty: Counter[] = [];
  const busy = new Set<Counter>();
  const inFlight = new Set<Promise<void>>();
  let pausedUntil = -Infinity;
  let lastWarnAt = -Infinity;

  function warn(err: unknown, name: string, msg: string) {
    const t = now();
    if (t - lastWarnAt < WINDOW_MS) return;
    lastWarnAt = t;
    log.warn({ err, limit: name }, msg);
  }

  function roll(t: number) {
    const w = Math.floor(t / WINDOW_MS);
    if (w === window) return;
    // Hits of a past window no longer decide anything: dropped with it, unpushed ones too.
    window = w;
    counters = new Map();
    size = 0;
    dirty = [];
  }

  function counterOf(name: string, key: string, t: number): Counter {
    roll(t);
    let byKey = counters.get(name);
    if (!byKey) counters.set(name, (byKey = new Map()));
    let c = byKey.get(key);
    if (!c) {
      c = { name, cacheKey: `rl:${name}:${key}:${window}`, window, shared: 0, drift: 0, inFlight: 0, pending: 0, syncedAt: -Infinity, busy: false, queued: false };
      byKey.set(key, c);
      size++;
    }
    return c;
  }

  function requeue(c: Counter) {
    if (!c.queued && c.window === window) {
      c.queued = true;
      dirty.push(c);
    }
  }

  /** One push (or, with nothing unpushed, one read) of a counter; at most one per counter at a time. */
  function sync(c: Counter, t: number) {
    const by = c.pending;
    c.pending = 0;
    c.inFlight += by;
    c.busy = true;
    c.syncedAt = t;
    busy.add(c);
    const answer = by > 0 ? cache.incrBy(c.cacheKey, by, COUNTER_TTL_MS) : cache.get(c.cacheKey).then((v) => Number(v) || 0);
    const done: Promise<void> = answer.then(
      (total) => {
        c.inFlight -= by;
        // The answer includes this push. Never below what we knew plus it: a cache that lost the key
        // (evicted, or the fallback's local store after Redis came back) must not undercount our own hits.
        c.drift = Math.max(0, total - (c.shared + by));
        c.shared = Math.max(total, c.shared + by);
      },
      (err: unknown) => {
        c.inFlight -= by;
        c.pending += by; // still counted here, and pushed again once the cache answers
        requeue(c);
        pausedUntil = now() + retryMs;
        warn(err, c.name, "the shared cache is unavailable: rate limits count on this instance only until it answers");
      },
    );
    inFlight.add(done);
    void done.finally(() => {
      c.busy = false;
      busy.delete(c);
      inFlight.delete(done);
    });
  }

  function tick() {
    const t = now();
    roll(t);
    for (const c of busy) {
      if (t - c.syncedAt > timeoutMs) {
        warn(new Error(`the cache did not answer within ${timeoutMs} ms`), c.name, "the shared cache is slow: rate limits count on this instance until it answers");
        break;
      }
    }
    if (t < pausedUntil || dirty.length === 0) return;
    const queue = dirty;
    dirty = [];
    for (const c of queue) {
      c.queued = false;
      if (c.pending === 0) continue;
      if (c.busy || t - c.syncedAt < syncMs) requeue(c);
      else sync(c, t);
    }
  }

  const timer = setInterval(tick, syncMs);
  timer.unref();

  async function flush() {
    // A few rounds: a counter whose push was in flight gets its later hits pushed in the next one.
    for (let round = 0; round < 3; round++) {
      const queue = dirty;
      dirty = [];
      for (const c of queue) {
        c.queued = false;
        if (c.pending === 0) continue;
        if (c.busy) requeue(c);
        else sync(c, now());
      }
      if (inFlight.size === 0) return;
      await Promise.allSettled([...inFlight]);
    }
  }

  return {
    hit(name, key, limit) {
      const t = now();
      const c = counterOf(name, key, t);
      c.pending++;
      const count = c.shared + c.inFlight + c.pending;
      if (!c.queued) {
        c.queued = true;
        dirty.push(c);
      }
      if (!c.busy && t >= pausedUntil) {
        // Near the limit — within a tenth of it, widened by what the others added last time — every hit
        // pushes (one push in flight per counter), so the count it is judged by is one round trip old.
        const nearLimit = limit !== undefined && count <= limit + 1 && count + c.drift > limit - Math.max(1, Math.ceil(limit / 10));
        if (nearLimit || t - c.syncedAt >= syncMs) sync(c, t);
      }
      return count;
    },
    peek(name, key) {
      const t = now();
      const c = counterOf(name, key, t);
      // What other instances counted reaches this one by a read at most every syncMs.
      if (!c.busy && t >= pausedUntil && t - c.syncedAt >= syncMs) sync(c, t);
      return c.shared + c.inFlight + c.pending;
    },
    retryAfterSec: () => Math.max(1, Math.ceil((WINDOW_MS - (now() % WINDOW_MS)) / 1000)),
    flush,
    async close() {
      clearInterval(timer);
      let late: NodeJS.Timeout | undefined;
      await Promise.race([flush(), new Promise<void>((resolve) => (late = setTimeout(resolve, closeMs)))]);
      clearTimeout(late);
    },
    trackedKeys: () => size,
  };
}

export interface RateLimitOptions {
  /** Names the counter in the cache: "api-key", "ip-callback"… */
  name: string;
  perMinute: number;
  /** Whose requests share the window (an API key's label, a client IP, a signed-in user). */
  keyOf: (ctx: Context) => string;
  /** Only requests this says yes to are counted; the default counts all. */
  when?: (ctx: Context) => boolean;
}

/** 429 rate_limited with Retry-After, in the API's error shape, once `perMinute` is used up. */
export function rateLimit(limiter: RateLimiter, opts: RateLimitOptions) {
  const limit = String(opts.perMinute);
  return async function limitRate(ctx: Context, next: Next) {
    if (opts.when && !opts.when(ctx)) return next();
    const count = limiter.hit(opts.name, opts.keyOf(ctx), opts.perMinute);
    ctx.set("X-RateLimit-Limit", limit);
    ctx.set("X-RateLimit-Remaining", String(Math.max(0, opts.perMinute - count)));
    if (count > opts.perMinute) {
      ctx.set("Retry-After", String(limiter.retryAfterSec()));
      throw new DomainError("rate_limited", "too many requests; slow down and retry after the Retry-After seconds");
    }
    await next();
  };
}
