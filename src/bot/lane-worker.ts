/**
 * Runs jobs one lane at a time per lane (a sender's messages in the order they were typed), with a
 * bounded number of lanes at once. The bound is asked for before each job, so the caller can lower it
 * while callbacks are arriving: answering WeCom within its 5 s (wecom.md 2.3) matters more than how
 * soon the bot replies, and the bot's work shares this event loop and the database with the answers.
 * Between two jobs a lane yields to the event loop (setImmediate), so pending I/O — a request being
 * parsed, a batch insert completing — runs before more bot work starts.
 */
export interface LaneWorker<J> {
  push(lane: string, job: J): void;
  /** Starts lanes again after the bound was raised (e.g. when a burst of callbacks is over). */
  pump(): void;
  /** Jobs queued or running. */
  size(): number;
  /** When the longest-waiting job not yet started was pushed (Date.now() ms), or null when none waits. */
  oldestWaiting(): number | null;
  /** Resolves when every job pushed so far has finished. */
  idle(): Promise<void>;
}

export function createLaneWorker<J>(opts: { concurrency: () => number; run: (job: J) => Promise<void> }): LaneWorker<J> {
  const queues = new Map<string, J[]>();
  // When each lane's first waiting job was pushed: lanes are FIFO, so that is the lane's oldest.
  const since = new Map<string, number[]>();
  const ready: string[] = []; // lanes with work that no runner holds, oldest first
  // oldestWaiting() is asked on every callback while the bot is held back, with dozens of lanes ready:
  // kept here, recomputed (a scan) only after a lane left `ready` or was handed back to it.
  let oldest: number | null | undefined = null;
  let active = 0;
  let queued = 0;
  let waiters: Array<() => void> = [];

  const yieldToIo = () => new Promise<void>((r) => setImmediate(r));

  function settleIdle() {
    if (queued > 0 || active > 0) return;
    const w = waiters;
    waiters = [];
    for (const resolve of w) resolve();
  }

  async function runLane(lane: string) {
    try {
      for (;;) {
        const jobs = queues.get(lane)!;
        const job = jobs.shift()!;
        since.get(lane)!.shift();
        try {
          await opts.run(job);
        } catch {
          // run() records its own failures; one job's failure never stops the lane
        }
        queued -= 1;
        if (jobs.length === 0) {
          queues.delete(lane);
          since.delete(lane);
          return;
        }
        await yieldToIo();
        // Over the bound now (a burst began): hand the lane back, its order kept, and let others wait.
        if (active > Math.max(1, opts.concurrency()) || opts.concurrency() <= 0) {
          ready.push(lane);
          oldest = undefined;
          return;
        }
      }
    } finally {
      active -= 1;
      pump();
      settleIdle();
    }
  }

  function pump() {
    while (ready.length > 0 && active < opts.concurrency()) {
      const lane = ready.shift()!;
      oldest = undefined;
      active += 1;
      void runLane(lane);
    }
  }

  return {
    push(lane, job) {
      queued += 1;
      const jobs = queues.get(lane);
      if (jobs) {
        jobs.push(job); // a runner holds the lane, or it is already in `ready`
        since.get(lane)!.push(Date.now());
        return;
      }
      const at = Date.now();
      queues.set(lane, [job]);
      since.set(lane, [at]);
      ready.push(lane);
      if (oldest === null) oldest = at; // a new lane is never older than those already waiting
      pump();
    },
    pump,
    size: () => queued,
    oldestWaiting() {
      if (oldest !== undefined) return oldest;
      let found: number | null = null;
      for (const lane of ready) {
        const at = since.get(lane)?.[0];
        if (at !== undefined && (found === null || at < found)) found = at;
      }
      oldest = found;
      return found;
    },
    idle() {
      if (queued === 0 && active === 0) return Promise.resolve();
      return new Promise<void>((resolve) => waiters.push(resolve));
    },
  };
}
