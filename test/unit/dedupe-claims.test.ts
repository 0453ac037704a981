import { createDedupeClaims } from "../../src/bot/dedupe-claims";
import type { Cache } from "../../src/cache/cache";
import { createMemoryCache } from "../../src/cache/memory";
import { createTestRedisCache, onRedis } from "../helpers/redis";

/**
 * A cache with a round trip (as Redis) that records each setIfAbsentMany call (its keys), optionally
 * failing or held; the memory cache underneath keeps the values.
 */
function recording(opts: { fail?: boolean; hold?: Promise<void> } = {}) {
  const inner = createMemoryCache();
  const calls: string[][] = [];
  const cache: Cache = {
    ...inner,
    kind: "redis",
    async setIfAbsentMany(keys, value, ttlMs) {
      calls.push([...keys]);
      if (opts.hold) await opts.hold;
      if (opts.fail) throw new Error("cache went away");
      return inner.setIfAbsentMany(keys, value, ttlMs);
    },
  };
  return { cache, calls, inner };
}

describe("de-dup claims", () => {
  it("sends the claims of one turn in one call and answers each in order; a repeated key is won by its first claim", async () => {
    const { cache, calls } = recording();
    const claims = createDedupeClaims(cache, 60_000);
    const answers = await Promise.all(["a", "b", "a", "c"].map((k) => claims.claim(k)));
    expect(answers).toEqual([true, true, false, true]);
    expect(calls).toEqual([["a", "b", "a", "c"]]);
    expect(await claims.claim("b")).toBe(false); // held for the TTL
  });

  it("collects claims made while a batch is out into the next one", async () => {
    let release!: () => void;
    const hold = new Promise<void>((r) => (release = r));
    const { cache, calls } = recording({ hold });
    const claims = createDedupeClaims(cache, 60_000);
    const first = claims.claim("k0");
    await new Promise((r) => setImmediate(r));
    const later = Array.from({ length: 5 }, (_, i) => claims.claim(`k${i + 1}`));
    await new Promise((r) => setTimeout(r, 10));
    expect(calls).toHaveLength(1); // one in flight; the rest wait
    release();
    expect(await Promise.all([first, ...later])).toEqual([true, true, true, true, true, true]);
    expect(calls).toEqual([["k0"], ["k1", "k2", "k3", "k4", "k5"]]);
  });

  it("splits long runs into batches of maxBatch keys", async () => {
    const { cache, calls } = recording();
    const claims = createDedupeClaims(cache, 60_000, { maxBatch: 4, maxInFlight: 3 });
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => claims.claim(`x${i}`)));
    expect(answers.every(Boolean)).toBe(true);
    expect(calls.map((c) => c.length)).toEqual([4, 4, 2]);
  });

  it("gives every claim of a failed call the error, and later claims still go out", async () => {
    const failing = recording({ fail: true });
    const claims = createDedupeClaims(failing.cache, 60_000);
    const results = await Promise.allSettled([claims.claim("p"), claims.claim("q")]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(await claims.claim("r").catch((e: Error) => e.message)).toBe("cache went away");
    expect(failing.calls).toEqual([["p", "q"], ["r"]]);
  });
});

describe("de-dup claims on the in-process cache", () => {
  it("answers each claim at once, without waiting a turn to batch it, and a repeated key is won by its first claim", async () => {
    const inner = createMemoryCache();
    const batched: string[][] = [];
    const cache: Cache = { ...inner, setIfAbsentMany: async (keys, value, ttl) => (batched.push(keys), inner.setIfAbsentMany(keys, value, ttl)) };
    const claims = createDedupeClaims(cache, 60_000);
    const answers: boolean[] = [];
    for (const k of ["a", "b", "a"]) void claims.claim(k).then((first) => answers.push(first));
    await Promise.resolve(); // a microtask, no turn of the event loop
    await Promise.resolve();
    expect(answers).toEqual([true, true, false]);
    expect(batched).toEqual([]);
    expect(await claims.claim("b")).toBe(false); // held for the TTL
  });
});

describe("setIfAbsentMany on the memory cache", () => {
  it("stores absent keys with the TTL and leaves present ones", async () => {
    let t = 1_000;
    const cache = createMemoryCache(() => t);
    await cache.set("held", "x", 10_000);
    expect(await cache.setIfAbsentMany(["held", "new", "new"], "1", 500)).toEqual([false, true, false]);
    expect(await cache.get("held")).toBe("x");
    t += 501;
    expect(await cache.setIfAbsentMany(["new"], "1", 500)).toEqual([true]); // expired
  });
});

(onRedis ? describe : describe.skip)("setIfAbsentMany on Redis", () => {
  const redis = onRedis ? createTestRedisCache() : null;
  afterAll(() => redis?.cleanup());

  it("answers per key in one script call, under the cache's key prefix, with the TTL set", async () => {
    const cache = redis!.cache;
    await cache.set("held", "x", 10_000);
    expect(await cache.setIfAbsentMany(["held", "new", "new", "other"], "1", 300)).toEqual([false, true, false, true]);
    expect(await cache.get("new")).toBe("1");
    expect(await cache.setIfAbsent("other", "1", 300)).toBe(false); // the same keys as the single-key call
    expect(await cache.setIfAbsentMany([], "1", 300)).toEqual([]);
    await new Promise((r) => setTimeout(r, 400));
    expect(await cache.setIfAbsentMany(["new", "held"], "1", 300)).toEqual([true, false]);
  });
});
