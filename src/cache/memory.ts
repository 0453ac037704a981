import { lockToken, type Cache } from "./cache";

interface Entry {
  value: string;
  expiresAt: number | null;
}

/** One-process cache for the embedded default and tests; `now` is injectable so tests need no real clock. */
export function createMemoryCache(now: () => number = Date.now): Cache {
  const store = new Map<string, Entry>();
  const buckets = new Map<string, { tokens: number; at: number }>();

  const live = (key: string): Entry | null => {
    const e = store.get(key);
    if (!e) return null;
    if (e.expiresAt !== null && e.expiresAt <= now()) {
      store.delete(key);
      return null;
    }
    return e;
  };
  const put = (key: string, value: string, ttlMs?: number) =>
    store.set(key, { value, expiresAt: ttlMs ? now() + ttlMs : null });

  return {
    kind: "memory",
    async get(key) {
      return live(key)?.value ?? null;
    },
    async set(key, value, ttlMs) {
      put(key, value, ttlMs);
    },
    async setIfAbsent(key, value, ttlMs) {
      if (live(key)) return false;
      put(key, value, ttlMs);
      return true;
    },
    async del(key) {
      store.delete(key);
    },
    async incr(key, ttlMs) {
      return this.incrBy(key, 1, ttlMs);
    },
    async incrBy(key, by, ttlMs) {
      const e = live(key);
      const next = (e ? Number(e.value) : 0) + by;
      store.set(key, { value: String(next), expiresAt: e?.expiresAt ?? now() + ttlMs });
      return next;
    },
    async takeToken(bucket, ratePerSec, burst) {
      const t = now();
      const b = buckets.get(bucket) ?? { tokens: burst, at: t };
      const tokens = Math.min(burst, b.tokens + ((t - b.at) / 1000) * ratePerSec);
      if (tokens >= 1) {
        buckets.set(bucket, { tokens: tokens - 1, at: t });
        return 0;
      }
      buckets.set(bucket, { tokens, at: t });
      return Math.ceil(((1 - tokens) / ratePerSec) * 1000);
    },
    async acquireLock(name, ttlMs) {
      const token = lockToken();
      return (await this.setIfAbsent(`lock:${name}`, token, ttlMs)) ? token : null;
    },
    async releaseLock(name, token) {
      if (live(`lock:${name}`)?.value === token) store.delete(`lock:${name}`);
    },
    async ping() {},
    async close() {
      store.clear();
      buckets.clear();
    },
  };
}
