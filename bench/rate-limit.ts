/**
 * Rate-limiter micro-bench (npm run bench:rate-limit): CPU per hit of this process for the limiter
 * (local counts, batched incrBy) versus the previous approach (one EVAL INCR+PEXPIRE round trip per hit
 * raced against a fresh 250 ms timer), in one run, on Redis and on the memory cache.
 *
 * BENCH_CONCURRENCY requests are in flight at once, each doing one hit then yielding (as a request does
 * before its handler), across BENCH_KEYS keys; every phase runs BENCH_SECONDS. Redis's own CPU is not
 * counted (it is another process): the old approach also costs Redis one EVAL per hit.
 *
 *   BENCH_SECONDS=3 BENCH_CONCURRENCY=64 BENCH_KEYS=16 BENCH_REDIS_URL=redis://127.0.0.1:6379 npm run bench:rate-limit
 */
import crypto from "node:crypto";
import { performance } from "node:perf_hooks";
import pino from "pino";
import type { Cache } from "../src/cache/cache";
import { createMemoryCache } from "../src/cache/memory";
import { createRedisCache } from "../src/cache/redis";
import { createRateLimiter } from "../src/http/middleware/rate-limit";
import { deleteRedisKeys, fmt, log, positive, table } from "./support";

const SECONDS = positive("BENCH_SECONDS", 3);
const CONCURRENCY = Math.trunc(positive("BENCH_CONCURRENCY", 64));
const KEYS = Math.trunc(positive("BENCH_KEYS", 16));
const REDIS_URL = process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379";
const LIMIT = 1_000_000_000;

/** The limiter as it was: one shared-cache round trip per hit, raced against a timer. */
function oldHit(cache: Cache) {
  return async (name: string, key: string): Promise<number | null> => {
    let timer: NodeJS.Timeout | undefined;
    try {
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("late")), 250);
        timer.unref();
      });
      return await Promise.race([cache.incr(`rl:${name}:${key}:${Math.floor(Date.now() / 60_000)}`, 61_000), late]);
    } catch {
      return null;
    } finally {
      clearTimeout(timer);
    }
  };
}

async function phase(hit: (key: string) => unknown): Promise<{ hitsPerSec: number; cpuUsPerHit: number }> {
  const keys = Array.from({ length: KEYS }, (_, i) => `10.0.0.${i}`);
  let hits = 0;
  const end = performance.now() + SECONDS * 1000;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, w) => {
      while (performance.now() < end) {
        await hit(keys[(w + hits) % KEYS]);
        hits++;
      }
    }),
  );
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { hitsPerSec: hits / wall, cpuUsPerHit: (cpu.user + cpu.system) / hits };
}

async function main() {
  const rows: string[][] = [];
  const prefix = `co_bench_rl_${crypto.randomBytes(4).toString("hex")}:`;
  const redis = createRedisCache(REDIS_URL, prefix);
  try {
    await redis.ping();
    for (const [label, cache] of [
      ["redis", redis],
      ["memory", createMemoryCache()],
    ] as const) {
      const limiter = createRateLimiter(cache, pino({ level: "silent" }));
      const old = oldHit(cache);
      for (let round = 0; round < 2; round++) {
        // Warm-up then measure, old and new alternating.
        const o = await phase((key) => old("bench", key));
        const n = await phase((key) => limiter.hit("bench", key, LIMIT));
        if (round === 1) {
          rows.push([label, "old: round trip per hit", fmt(o.hitsPerSec, 0), fmt(o.cpuUsPerHit, 2)]);
          rows.push([label, "new: local count, batched incrBy", fmt(n.hitsPerSec, 0), fmt(n.cpuUsPerHit, 2)]);
          log(`${label}: CPU per hit ${fmt(o.cpuUsPerHit, 2)} → ${fmt(n.cpuUsPerHit, 2)} µs (×${fmt(o.cpuUsPerHit / n.cpuUsPerHit, 1)} less)`);
        }
      }
      await limiter.close();
    }
  } finally {
    await redis.close();
    await deleteRedisKeys(REDIS_URL, prefix).catch(() => undefined);
  }
  process.stdout.write(`${table(["cache", "limiter", "hits/s", "CPU µs/hit"], rows, [0, 1])}\n`);
  process.stdout.write(`(${CONCURRENCY} hits in flight, ${KEYS} keys, ${SECONDS} s a phase; new hits yield once each like a request would)\n`);
}

void main().catch((err) => {
  log(String(err));
  process.exitCode = 1;
});
