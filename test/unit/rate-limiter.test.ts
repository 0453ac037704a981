import { Writable } from "node:stream";
import pino from "pino";
import { createMemoryCache } from "../../src/cache/memory";
import { createRedisCache } from "../../src/cache/redis";
import { createRateLimiter } from "../../src/http/middleware/rate-limit";

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

describe("the rate limiter", () => {
  it("counts per name and key in one-minute windows and says when the window ends", async () => {
    let now = Date.parse("2026-11-30T10:00:15Z");
    const limiter = createRateLimiter(createMemoryCache(), capture().log, { now: () => now });
    expect(await limiter.hit("ip-api", "1.2.3.4")).toBe(1);
    expect(await limiter.hit("ip-api", "1.2.3.4")).toBe(2);
    expect(await limiter.hit("ip-api", "5.6.7.8")).toBe(1);
    expect(await limiter.hit("ip-signin", "1.2.3.4")).toBe(1);
    expect(await limiter.peek("ip-api", "1.2.3.4")).toBe(2);
    expect(limiter.retryAfterSec()).toBe(45);
    now += 45_000;
    expect(await limiter.hit("ip-api", "1.2.3.4")).toBe(1);
  });

  it("answers null within its timeout when the cache is down, and warns once a minute, not per request", async () => {
    let now = Date.parse("2026-11-30T10:00:00Z");
    const { log, lines } = capture();
    // Nothing listens on port 1: the same failure as a stopped Redis.
    const cache = createRedisCache("redis://127.0.0.1:1", "rl-test:");
    try {
      const limiter = createRateLimiter(cache, log, { timeoutMs: 100, now: () => now });
      const started = Date.now();
      for (let i = 0; i < 5; i++) expect(await limiter.hit("ip-api", "1.2.3.4")).toBeNull();
      expect(await limiter.peek("authfail", "1.2.3.4")).toBeNull();
      expect(Date.now() - started).toBeLessThan(6 * 1000);
      expect(lines.filter((l) => l.msg.startsWith("rate limiting is off"))).toHaveLength(1);
      now += 60_000;
      expect(await limiter.hit("ip-api", "1.2.3.4")).toBeNull();
      expect(lines.filter((l) => l.msg.startsWith("rate limiting is off"))).toHaveLength(2);
    } finally {
      await cache.close();
    }
  });
});
