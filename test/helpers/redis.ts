import crypto from "node:crypto";
import Redis from "ioredis";
import type { Cache } from "../../src/cache/cache";
import { createRedisCache } from "../../src/cache/redis";

/** Redis runs the suite's shared cache with `TEST_DB=mysql` (`npm run test:mysql`), as in test-app.ts. */
export const onRedis = process.env.TEST_DB === "mysql";
export const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/** A Redis cache under a key prefix of its own; `cleanup` closes it and deletes its keys. */
export function createTestRedisCache(): { cache: Cache; prefix: string; cleanup(): Promise<void> } {
  const prefix = `co_test:${process.pid}_${crypto.randomBytes(4).toString("hex")}:`;
  const cache = createRedisCache(REDIS_URL, prefix);
  return {
    cache,
    prefix,
    async cleanup() {
      await cache.close();
      await deleteRedisPrefix(REDIS_URL, prefix);
    },
  };
}

export async function deleteRedisPrefix(url: string, prefix: string) {
  const redis = new Redis(url);
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}
