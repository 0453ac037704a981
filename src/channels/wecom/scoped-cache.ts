import type { Cache } from "../../cache/cache";

/**
 * The same cache with every key under `scope`. A second client with the 客户联系 secret (wecom.md 7.1)
 * gets its own access_token this way: the client names its token after the corp and agent, not the secret.
 */
export function scopedCache(cache: Cache, scope: string): Cache {
  const k = (key: string) => `${scope}${key}`;
  return {
    kind: cache.kind,
    get: (key) => cache.get(k(key)),
    set: (key, value, ttlMs) => cache.set(k(key), value, ttlMs),
    setIfAbsent: (key, value, ttlMs) => cache.setIfAbsent(k(key), value, ttlMs),
    setIfAbsentMany: (keys, value, ttlMs) => cache.setIfAbsentMany(keys.map(k), value, ttlMs),
    del: (key) => cache.del(k(key)),
    incr: (key, ttlMs) => cache.incr(k(key), ttlMs),
    incrBy: (key, by, ttlMs) => cache.incrBy(k(key), by, ttlMs),
    takeToken: (bucket, ratePerSec, burst) => cache.takeToken(k(bucket), ratePerSec, burst),
    acquireLock: (name, ttlMs) => cache.acquireLock(k(name), ttlMs),
    releaseLock: (name, token) => cache.releaseLock(k(name), token),
    ping: () => cache.ping(),
    // The shared cache belongs to the app, which closes it.
    close: async () => undefined,
  };
}
