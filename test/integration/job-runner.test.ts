import request from "supertest";
import { createRedisCache } from "../../src/cache/redis";
import type { Cache } from "../../src/cache/cache";
import { startJobs, type Job } from "../../src/jobs/runner";
import { listJobRuns, recordJobFinished, recordJobStarted } from "../../src/services/job-runs";
import { createTestApp, onMysql, type TestApp } from "../helpers/test-app";

/** Two instances' schedulers on one cache (Redis under TEST_DB=mysql, the shared memory cache otherwise). */
describe("job runner across instances", () => {
  let t: TestApp;
  let second: Cache;
  beforeAll(async () => {
    t = await createTestApp();
    second = onMysql ? createRedisCache(t.app.config.redisUrl!, t.app.config.cacheKeyPrefix) : t.app.cache;
  });
  afterAll(async () => {
    if (second !== t.app.cache) await second.close();
    await t.close();
  });

  function countingJobs(ran: Map<string, number>, delays: number[]): Array<Job<null>> {
    return delays.map((ms, i) => ({
      name: `job-${i}`,
      schedule: null,
      async run() {
        ran.set(`job-${i}`, (ran.get(`job-${i}`) ?? 0) + 1);
        await new Promise((r) => setTimeout(r, ms));
        return { ms };
      },
    }));
  }

  it("runs each job once per cron occurrence when two schedulers race, even when one finishes before the other wakes", async () => {
    const ran = new Map<string, number>();
    const jobs = countingJobs(ran, [0, 5, 50]);
    const log = t.app.log;
    const a = startJobs(jobs, { ctx: null, cache: t.app.cache, log, schedule: false, instance: "a" });
    const b = startJobs(jobs, { ctx: null, cache: second, log, schedule: false, instance: "b" });
    const occurrence = new Date("2026-03-02T01:00:00Z");
    await Promise.all(jobs.flatMap((j) => [a.runScheduled(j.name, occurrence), b.runScheduled(j.name, occurrence)]));
    // A late instance (a slow clock, a long GC pause) after the first one already finished and released its lock.
    await Promise.all(jobs.map((j) => b.runScheduled(j.name, occurrence)));
    expect(Object.fromEntries(ran)).toEqual({ "job-0": 1, "job-1": 1, "job-2": 1 });
    // The next occurrence runs again.
    await Promise.all(jobs.flatMap((j) => [a.runScheduled(j.name, new Date("2026-03-02T01:15:00Z")), b.runScheduled(j.name, new Date("2026-03-02T01:15:00Z"))]));
    expect(Object.fromEntries(ran)).toEqual({ "job-0": 2, "job-1": 2, "job-2": 2 });
  });

  it("keeps a run from overlapping one still in progress on another instance", async () => {
    const ran = new Map<string, number>();
    const [slow] = countingJobs(ran, [100]);
    const a = startJobs([slow], { ctx: null, cache: t.app.cache, log: t.app.log, schedule: false });
    const b = startJobs([slow], { ctx: null, cache: second, log: t.app.log, schedule: false });
    const [ra, rb] = await Promise.all([a.runNow(slow.name), b.runNow(slow.name)]);
    expect([ra, rb].filter((r) => r === null)).toHaveLength(1);
    expect(ran.get(slow.name)).toBe(1);
  });

  it("reports a job that throws and still runs the others, recording every run in job_runs", async () => {
    const runner = t.app.jobRunner({ schedule: false });
    const failing: Job<null> = { name: "explodes", schedule: null, run: async () => Promise.reject(new Error("boom")) };
    const ran = new Map<string, number>();
    const jobs = [failing, ...countingJobs(ran, [0])];
    const recorder = startJobs(jobs, {
      ctx: null,
      cache: t.app.cache,
      log: t.app.log,
      schedule: false,
      record: {
        started: (r) => recordJobStarted(t.app.deps, r),
        finished: (r) => recordJobFinished(t.app.deps, r),
      },
    });
    const outcome = await recorder.runAll();
    expect(outcome.explodes).toMatchObject({ ok: false, error: "boom" });
    expect(outcome["job-0"]).toMatchObject({ ok: true });
    expect(ran.get("job-0")).toBe(1);
    const runs = await listJobRuns(t.app.deps);
    expect(runs.find((r) => r.name === "explodes")).toMatchObject({ outcome: "failed", error: "boom", runs: 1, failures: 1 });
    expect(runs.find((r) => r.name === "job-0")).toMatchObject({ outcome: "ok", runs: 1, failures: 0 });
    // The app's own jobs are all known to its runner, and each can be run by name.
    expect(runner.names()).toEqual(expect.arrayContaining(["approval-reminders", "receivables", "daily-digest", "low-stock", "housekeeping", "report-rollups"]));
    expect(await runner.runNow("housekeeping")).toMatchObject({ archived: 0 });
  });

  it("shows the last runs on /healthz?details", async () => {
    const res = await request(t.callback).get("/healthz?details=1");
    expect(res.status).toBe(200);
    expect(res.body.jobs).toEqual(expect.arrayContaining([expect.objectContaining({ name: "housekeeping", outcome: "ok" })]));
    expect((await request(t.callback).get("/healthz")).body).toEqual({ status: "ok" });
  });
});
