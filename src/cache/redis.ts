import type Redis from "ioredis";
import { lockToken, type Cache } from "./cache";

// Refill and take in one step so instances sharing a bucket never over-spend it.
const TAKE_TOKEN = `
local key = KEYS[1]
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = redis.call('HMGET', key, 'tokens', 'at')
local tokens = tonumber(b[1]) or burst
local at = tonumber(b[2]) or now
tokens = math.min(burst, tokens + ((now - at) / 1000) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil(((1 - tokens) / rate) * 1000) end
redis.call('HSET', key, 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', key, math.ceil((burst / rate) * 1000) + 1000)
return wait
`;

const RELEASE_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

// The TTL is set when this call created the key (the value is then exactly what was added); adding 0
// to a key that does not exist creates it at 0 with its TTL, so no counter is ever left without one.
const INCRBY_WITH_TTL = `
local by = tonumber(ARGV[1])
local v = redis.call('INCRBY', KEYS[1], by)
if v == by then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return v
`;

/** Raised at once, without a round trip, while the connection to Redis is down. */
export class CacheUnavailable extends Error {
  constructor(status: string) {
    super(`redis is not connected (${status})`);
  }
}

/** A command with no answer by then fails, so a Redis that hangs cannot hold a request. */
const COMMAND_TIMEOUT_MS = 2000;

/** Redis-backed cache shared by every instance; all keys carry the configured prefix. */
export function createRedisCache(url: string, prefix: string): Cache {
  // Auto-pipelining: commands issued in the same turn of the event loop (the card codes of many taps
  // answered together, say) go out as one write and come back in one read, instead of a syscall pair each.
  // Required here, not at the top: an instance on the in-process cache never loads the client.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const RedisClient = require("ioredis") as typeof Redis;
  const redis = new RedisClient(url, {
    keyPrefix: prefix,
    maxRetriesPerRequest: 1,
    // The queue only covers start-up (commands sent before the first connection attempt); after it, a
    // connection that is not ready fails commands at once (below), so callers fall back instead of waiting.
    enableOfflineQueue: true,
    commandTimeout: COMMAND_TIMEOUT_MS,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(times * 100, 1000),
    lazyConnect: false,
    enableAutoPipelining: true,
  });
  redis.on("error", () => undefined); // surfaced through the failing command and /readyz, not as an unhandled event
  let tried = false;
  redis.on("ready", () => (tried = true));
  redis.on("close", () => (tried = true));
  const up = <T>(run: () => Promise<T>): Promise<T> => (tried && redis.status !== "ready" ? Promise.reject(new CacheUnavailable(redis.status)) : run());

  return {
    kind: "redis",
    get: (key) => up(() => redis.get(key)),
    set: (key, value, ttlMs) =>
      up(async () => {
        if (ttlMs) await redis.set(key, value, "PX", ttlMs);
        else await redis.set(key, value);
      }),
    setIfAbsent: (key, value, ttlMs) => up(async () => (await redis.set(key, value, "PX", ttlMs, "NX")) === "OK"),
    del: (key) =>
      up(async () => {
        await redis.del(key);
      }),
    incr: (key, ttlMs) => up(async () => Number(await redis.eval(INCRBY_WITH_TTL, 1, key, 1, ttlMs))),
    incrBy: (key, by, ttlMs) => up(async () => Number(await redis.eval(INCRBY_WITH_TTL, 1, key, by, ttlMs))),
    takeToken: (bucket, ratePerSec, burst) => up(async () => Number(await redis.eval(TAKE_TOKEN, 1, `bucket:${bucket}`, ratePerSec, burst))),
    acquireLock: (name, ttlMs) =>
      up(async () => {
        const token = lockToken();
        return (await redis.set(`lock:${name}`, token, "PX", ttlMs, "NX")) === "OK" ? token : null;
      }),
    releaseLock: (name, token) =>
      up(async () => {
        await redis.eval(RELEASE_LOCK, 1, `lock:${name}`, token);
      }),
    async ping() {
      await up(() => redis.ping());
    },
    async close() {
      redis.disconnect();
    },
  };
}
