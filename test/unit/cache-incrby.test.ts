import pino from "pino";
import type { Cache } from "../../src/cache/cache";
import { withLocalFallback } from "../../src/cache/fallback";
import { createMemoryCache } from "../../src/cache/memory";
import { createRedisCache } from "../../src/cache/redis";
import { createTestRedisCache, onRedis } from "../helpers/redis";

/** The same checks for every Cache: adds N at once, the TTL runs from creation, incr is incrBy 1. */
async function addsAndExpires(cache: Cache, advance: (ms: number) => Promise<void>) {
  expect(await cache.incrBy("n", 5, 1000)).toBe(5);
  expect(await cache.incrBy("n", 3, 1000)).toBe(8);
  expect(await cache.incr("n", 1000)).toBe(9);
  expect(await cache.incrBy("n", 0, 1000)).toBe(9);
  expect(await cache.get("n")).toBe("9");
  expect(await cache.incrBy("other", 2, 1000)).toBe(2);
  await advance(600);
  // A later add does not move the expiry: the counter still ends 1000 ms after it was created.
  expect(await cache.incrBy("n", 1, 1000)).toBe(10);
  await advance(600);
  expect(await cache.get("n")).toBeNull();
  expect(await cache.incrBy("n", 4, 1000)).toBe(4);
}

describe("Cache.incrBy", () => {
  it("memory: adds N, expires from creation", async () => {
    let now = 1_000_000;
    await addsAndExpires(createMemoryCache(() => now), async (ms) => void (now += ms));
  });

  it("the fallback adds on the shared cache, and on its own while the shared one is down", async () => {
    const shared = createMemoryCache();
    const up = withLocalFallback(shared, pino({ level: "silent" }));
    expect(await up.incrBy("n", 4, 60_000)).toBe(4);
    expect(await shared.get("n")).toBe("4");
    const down = createRedisCache("redis://127.0.0.1:1", "incrby-test:");
    const fallback = withLocalFallback(down, pino({ level: "silent" }));
    try {
      expect(await fallback.incrBy("n", 4, 60_000)).toBe(4);
      expect(await fallback.incrBy("n", 2, 60_000)).toBe(6);
    } finally {
      await fallback.close();
    }
  });

  (onRedis ? it : it.skip)("redis: adds N, expires from creation", async () => {
    const { cache, cleanup } = createTestRedisCache();
    try {
      await addsAndExpires(cache, (ms) => new Promise((r) => setTimeout(r, ms)));
    } finally {
      await cleanup();
    }
  });
});
