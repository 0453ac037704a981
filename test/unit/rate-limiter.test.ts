import { Writable } from "node:stream";
import pino from "pino";
import type { Cache } from "../../src/cache/cache";
import { createMemoryCache } from "../../src/cache/memory";
import { createRedisCache } from "../../src/cache/redis";
import { createRateLimiter, type SharedRateLimiter } from "../../src/http/middleware/rate-limit";
import { createTestRedisCache, onRedis } from "../helpers/redis";

function capture() {
  const lines: Array<{ msg: string; limit?: string }> = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { log: pino({ level: "warn" }, stream), lines };
}

/** Lets answers of the cache in hand arrive (the memory cache answers within a turn). */
const settle = () => new Promise((r) => setImmediate(r));

/** The cache with its incrBy/get calls counted, and a switch that makes them fail or hang. */
function instrumented(cache: Cache) {
  const calls = { incrBy: 0, get: 0 };
  let mode: "up" | "down" | "hung" = "up";
  const wrapped: Cache = {
    ...cache,
    incrBy(key, by, ttlMs) {
      calls.incrBy++;
      if (mode === "down") return Promise.reject(new Error("connection refused"));
      if (mode === "hung") return new Promise<number>(() => undefined);
      return cache.incrBy(key, by, ttlMs);
    },
    get(key) {
      calls.get++;
      if (mode === "down") return Promise.reject(new Error("connection refused"));
      if (mode === "hung") return new Promise<string | null>(() => undefined);
      return cache.get(key);
    },
  };
  return { cache: wrapped, calls, set: (m: typeof mode) => (mode = m) };
}

const silent = pino({ level: "silent" });
const T0 = Date.parse("2026-11-30T10:00:00Z");
const WARNING = /^the shared cache is (unavailable|slow)/;

describe("the rate limiter", () => {
  const open: SharedRateLimiter[] = [];
  const limiter = (cache: Cache, opts: Parameters<typeof createRateLimiter>[2] = {}, log = silent) => {
    const l = createRateLimiter(cache, log, opts);
    open.push(l);
    return l;
  };
  afterEach(async () => {
    await Promise.all(open.splice(0).map((l) => l.close()));
  });

  it("counts per name and key in one-minute windows and says when the window ends", async () => {
    let now = Date.parse("2026-11-30T10:00:15Z");
    const l = limiter(createMemoryCache(), { now: () => now });
    expect(l.hit("ip-api", "1.2.3.4")).toBe(1);
    expect(l.hit("ip-api", "1.2.3.4")).toBe(2);
    expect(l.hit("ip-api", "5.6.7.8")).toBe(1);
    expect(l.hit("ip-signin", "1.2.3.4")).toBe(1);
    expect(l.peek("ip-api", "1.2.3.4")).toBe(2);
    expect(l.retryAfterSec()).toBe(45);
    await settle();
    expect(l.peek("ip-api", "1.2.3.4")).toBe(2);
    now += 45_000;
    expect(l.hit("ip-api", "1.2.3.4")).toBe(1);
  });

  it("is exact on one instance: the (limit+1)-th hit of a window is the first over, whatever the syncs did", async () => {
    let now = T0;
    const cache = createMemoryCache(() => now);
    const l = limiter(cache, { now: () => now });
    const counts: number[] = [];
    for (let i = 0; i < 200; i++) {
      counts.push(l.hit("ip-callback", "198.51.100.1", 50));
      now += 7;
      if (i % 3 === 0) await settle();
    }
    expect(counts).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(counts.filter((c) => c <= 50)).toHaveLength(50);
    await l.flush();
    expect(await cache.get(`rl:ip-callback:198.51.100.1:${Math.floor(T0 / 60_000)}`)).toBe("200");
    expect(l.peek("ip-callback", "198.51.100.1")).toBe(200);
  });

  it("pushes hits in batches: far fewer incrBy calls than hits, and the shared total is every hit", async () => {
    let now = T0;
    const { cache, calls } = instrumented(createMemoryCache(() => now));
    const l = limiter(cache, { now: () => now, syncMs: 100 });
    // 10,000 hits over 10 s from a handful of keys, the cache answering between them.
    for (let i = 0; i < 10_000; i++) {
      l.hit("ip-callback", `10.0.0.${i % 4}`, 1_000_000);
      now += 1;
      if (i % 20 === 0) await settle();
    }
    await l.flush();
    // At most one push per key per 100 ms: 4 keys × 10 s / 100 ms = 400 (+ the flush), not 10,000.
    expect(calls.incrBy).toBeLessThanOrEqual(4 * 101 + 4);
    expect(calls.incrBy).toBeGreaterThan(4);
    const total = await Promise.all([0, 1, 2, 3].map((k) => cache.get(`rl:ip-callback:10.0.0.${k}:${Math.floor(T0 / 60_000)}`)));
    expect(total.map(Number)).toEqual([2500, 2500, 2500, 2500]);
  });

  it("syncs at once near the limit, so two instances sharing a cache hold steady combined traffic to about the limit", async () => {
    let now = T0;
    const cache = createMemoryCache(() => now);
    const a = limiter(cache, { now: () => now, syncMs: 100 });
    const b = limiter(cache, { now: () => now, syncMs: 100 });
    let allowed = 0;
    // One hit a millisecond, alternating: each instance takes 50 hits per sync interval.
    for (let i = 0; i < 3000; i++) {
      if ((i % 2 === 0 ? a : b).hit("key", "client", 1000) <= 1000) allowed++;
      now += 1;
      await settle();
    }
    expect(allowed).toBeGreaterThanOrEqual(1000);
    // Without the near-limit syncs the overshoot would be up to the other's 50 per interval (and more).
    expect(allowed).toBeLessThanOrEqual(1005);
    await Promise.all([a.flush(), b.flush()]);
    expect(Number(await cache.get(`rl:key:client:${Math.floor(T0 / 60_000)}`))).toBe(3000);
  });

  it("lets two instances overshoot by at most what the other counts before it has heard the shared total", async () => {
    let now = T0;
    const cache = createMemoryCache(() => now);
    const a = limiter(cache, { now: () => now, syncMs: 100 });
    const b = limiter(cache, { now: () => now, syncMs: 100 });
    let allowed = 0;
    const hit = (l: SharedRateLimiter) => (l.hit("key", "client", 100) <= 100 ? allowed++ : 0);
    // a uses 60 and has pushed them; b then bursts 60 before its first push is answered.
    for (let i = 0; i < 60; i++) hit(a);
    await a.flush();
    for (let i = 0; i < 60; i++) hit(b);
    expect(allowed).toBe(120); // the bounded overshoot: b's 60 hits, judged before b heard of a's
    await b.flush();
    now += 100;
    expect(a.peek("key", "client")).toBe(60); // a's view is a sync interval old; its read is on the way
    await a.flush();
    expect(a.peek("key", "client")).toBe(120);
    // Both have heard the shared total: nothing more passes on either.
    for (let i = 0; i < 10; i++) {
      hit(a);
      hit(b);
      await settle();
    }
    expect(allowed).toBe(120);
    await Promise.all([a.flush(), b.flush()]);
    expect(Number(await cache.get(`rl:key:client:${Math.floor(T0 / 60_000)}`))).toBe(140);
  });

  it("peek answers the shared total plus this instance's unpushed hits", async () => {
    const now = T0;
    const cache = createMemoryCache(() => now);
    const a = limiter(cache, { now: () => now });
    const b = limiter(cache, { now: () => now });
    for (let i = 0; i < 5; i++) a.hit("authfail", "203.0.113.7", 30);
    await a.flush();
    expect(b.peek("authfail", "203.0.113.7")).toBe(0); // nothing heard yet: the read is on its way
    await settle();
    expect(b.peek("authfail", "203.0.113.7")).toBe(5);
    b.hit("authfail", "203.0.113.7", 30);
    b.hit("authfail", "203.0.113.7", 30);
    expect(b.peek("authfail", "203.0.113.7")).toBe(7);
  });

  it("fails open when the cache errs: counts on this instance, pushes later, warns once a minute", async () => {
    let now = T0;
    const { log, lines } = capture();
    const { cache, calls, set } = instrumented(createMemoryCache(() => now));
    const l = limiter(cache, { now: () => now, retryMs: 1000 }, log);
    set("down");
    const counts: number[] = [];
    for (let i = 0; i < 50; i++) {
      counts.push(l.hit("ip-api", "1.2.3.4", 10));
      now += 10;
      await settle();
    }
    // Still limited by this instance's own count, and the cache was not asked per request.
    expect(counts).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(calls.incrBy).toBeLessThan(5);
    expect(lines.filter((x) => WARNING.test(x.msg))).toHaveLength(1);
    expect(lines[0].limit).toBe("ip-api");
    // Back up: the hits counted meanwhile reach the shared cache.
    set("up");
    now += 1000;
    l.hit("ip-api", "1.2.3.4", 10);
    await l.flush();
    expect(await cache.get(`rl:ip-api:1.2.3.4:${Math.floor(T0 / 60_000)}`)).toBe("51");
    set("down");
    now += 60_000;
    l.hit("ip-api", "1.2.3.4", 10);
    await settle();
    expect(lines.filter((x) => WARNING.test(x.msg))).toHaveLength(2);
  });

  it("never waits for a cache that hangs, and says so once", async () => {
    let now = T0;
    const { log, lines } = capture();
    const { cache, set } = instrumented(createMemoryCache(() => now));
    const l = limiter(cache, { now: () => now, syncMs: 5, timeoutMs: 250, closeMs: 50 }, log);
    set("hung");
    for (let i = 0; i < 20; i++) expect(l.hit("ip-api", "1.2.3.4", 10)).toBe(i + 1);
    now += 300;
    await new Promise((r) => setTimeout(r, 40)); // a few background ticks
    expect(lines.filter((x) => /^the shared cache is slow/.test(x.msg))).toHaveLength(1);
    const started = Date.now();
    await l.close(); // bounded by closeMs even though the cache never answers
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("answers at once when Redis is down (nothing listens), warning once a minute, not per request", async () => {
    let now = T0;
    const { log, lines } = capture();
    // Nothing listens on port 1: the same failure as a stopped Redis.
    const cache = createRedisCache("redis://127.0.0.1:1", "rl-test:");
    try {
      const l = limiter(cache, { now: () => now, closeMs: 100 }, log);
      const started = Date.now();
      for (let i = 0; i < 5; i++) expect(l.hit("ip-api", "1.2.3.4")).toBe(i + 1);
      expect(l.peek("authfail", "1.2.3.4")).toBe(0);
      expect(Date.now() - started).toBeLessThan(50);
      await l.flush();
      expect(lines.filter((x) => WARNING.test(x.msg))).toHaveLength(1);
      now += 60_000;
      expect(l.hit("ip-api", "1.2.3.4")).toBe(1);
      await l.flush();
      expect(lines.filter((x) => WARNING.test(x.msg))).toHaveLength(2);
    } finally {
      await cache.close();
    }
  });

  it("drops the counters of a past window: many distinct keys do not pile up", async () => {
    let now = T0;
    const l = limiter(createMemoryCache(() => now), { now: () => now });
    for (let i = 0; i < 10_000; i++) l.hit("ip-callback", `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 100);
    expect(l.trackedKeys()).toBe(10_000);
    await l.flush();
    now += 60_000;
    expect(l.hit("ip-callback", "10.0.0.1", 100)).toBe(1);
    expect(l.trackedKeys()).toBe(1);
  });

  it("flushes what it has not pushed when closed", async () => {
    const now = T0;
    const cache = createMemoryCache(() => now);
    const l = limiter(cache, { now: () => now, syncMs: 60_000 });
    for (let i = 0; i < 7; i++) l.hit("key", "k", 1000);
    await l.close();
    expect(await cache.get(`rl:key:k:${Math.floor(T0 / 60_000)}`)).toBe("7");
  });

  (onRedis ? describe : describe.skip)("on Redis", () => {
    it("is exact on one instance and shares counts between two", async () => {
      const { cache, cleanup } = createTestRedisCache();
      const at = Date.now(); // one window for the whole test, whenever it runs
      try {
        const a = limiter(cache, { now: () => at });
        const b = limiter(cache, { now: () => at });
        const counts: number[] = [];
        for (let i = 0; i < 40; i++) {
          counts.push(a.hit("ip-signin", "198.51.100.9", 20));
          if (i % 5 === 0) await new Promise((r) => setTimeout(r, 2));
        }
        expect(counts).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
        await a.flush();
        expect(b.peek("ip-signin", "198.51.100.9")).toBe(0);
        await b.flush();
        await new Promise((r) => setTimeout(r, 20));
        expect(b.peek("ip-signin", "198.51.100.9")).toBe(40);
        expect(b.hit("ip-signin", "198.51.100.9", 20)).toBe(41);
      } finally {
        await Promise.all(open.splice(0).map((l) => l.close()));
        await cleanup();
      }
    });
  });
});
