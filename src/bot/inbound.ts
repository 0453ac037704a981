import { Op } from "sequelize";
import type { Logger } from "pino";
import type { Db } from "../db/sequelize";
import type { InboundEvent } from "../channels/channel";
import { createInboundWriter, type Persisted } from "./inbound-writer";
import { createLaneWorker, type LaneWorker } from "./lane-worker";

const MAX_ATTEMPTS = 3;
/** Lanes (senders) handled at once when no callback is waiting for its answer. */
const CONCURRENCY = 8;
/**
 * While callbacks are arriving the bot waits, so answers come first (WeCom re-sends what is not answered
 * within 5 s, wecom.md 2.3) — but never longer than this: past it, one lane trickles on, so a sustained
 * burst delays replies by about this much rather than starving the bot.
 */
const MAX_DEFER_MS = 5_000;
/**
 * "Arriving" also covers this short gap after the last callback was answered: a platform that waits
 * for acknowledgements before sending more (DingTalk's Stream window, a connection's next request)
 * leaves no callback in flight for a moment between rounds, and starting the bot's lanes in that
 * moment put its queries between every round of acknowledgements (bench:dingtalk). A quiet trickle
 * costs the bot at most this much extra delay.
 */
const ARRIVAL_GAP_MS = 10;
const BUSY_CONCURRENCY = 1;
/** recover() reads stale events in pages of this many, up to RECOVER_PAGES pages a call (the rest: next call). */
const RECOVER_PAGE = 500;
const RECOVER_PAGES = 100;
/** "processed" marks are written together; a crash before one is written only means handling again. */
const MARK_EVERY_MS = 50;

export interface InboundPipeline {
  /**
   * Accepts an event from a platform: persisted and de-duplicated in one step (the inbound_events unique
   * key), and handed to the bot after this returns — so a callback can be answered at once.
   */
  receive(event: InboundEvent): Promise<{ duplicate: boolean }>;
  /** Resolves when everything received so far has been handled (tests, shutdown). */
  drain(): Promise<void>;
  /** Handles events persisted but never finished (a crash between acknowledging and handling). */
  recover(olderThanMs?: number): Promise<number>;
}

export interface InboundOptions {
  concurrency?: number;
  busyConcurrency?: number;
  /** How long the bot may be held back while callbacks keep arriving. */
  maxDeferMs?: number;
  maxBatch?: number;
}

interface Job {
  id: number;
  event: InboundEvent;
}

export function createInboundPipeline(
  deps: {
    db: Db;
    log: Logger;
    now: () => Date;
    handle: (event: InboundEvent) => Promise<void>;
  },
  opts: InboundOptions = {},
): InboundPipeline {
  const m = deps.db.models;
  const writer = createInboundWriter(deps.db, { maxBatch: opts.maxBatch });
  const concurrency = opts.concurrency ?? CONCURRENCY;
  const busyConcurrency = opts.busyConcurrency ?? BUSY_CONCURRENCY;
  const maxDeferMs = opts.maxDeferMs ?? MAX_DEFER_MS;
  let receiving = 0;
  let lastReceived = 0;
  let recheck: NodeJS.Timeout | null = null;
  let gapCheck: NodeJS.Timeout | null = null;
  // Ids queued or running here: recover() must not hand the bot an event it already has.
  const known = new Set<number>();
  // Events this instance is writing, by platform and key: a repeat arriving meanwhile waits for the outcome.
  const writing = new Map<string, Promise<Persisted>>();
  const marks = createMarks(deps, (ids) => ids.forEach((id) => known.delete(id)));

  // One lane per sender keeps a person's messages in the order they typed them.
  const worker: LaneWorker<Job> = createLaneWorker<Job>({
    concurrency: (): number => {
      const quietFor = Date.now() - lastReceived;
      if (receiving === 0 && quietFor >= ARRIVAL_GAP_MS) return concurrency;
      const oldest = worker.oldestWaiting();
      if (oldest === null) return 0;
      const waited = Date.now() - oldest;
      if (waited >= maxDeferMs) return busyConcurrency;
      if (receiving === 0) {
        // Look again once the gap has passed, in case nothing else arrives to trigger a pump.
        gapCheck ??= setTimeout(() => {
          gapCheck = null;
          worker.pump();
        }, ARRIVAL_GAP_MS - quietFor).unref();
      }
      // Look again when it will have waited long enough, in case no callback completes before then.
      recheck ??= setTimeout(() => {
        recheck = null;
        worker.pump();
      }, maxDeferMs - waited).unref();
      return 0;
    },
    run: (job) => process(job),
  });

  async function process({ id, event }: Job) {
    try {
      await deps.handle(event);
    } catch (err) {
      try {
        const row = await m.InboundEvent.findByPk(id);
        const attempts = (row?.attempts ?? 0) + 1;
        deps.log.error({ err, platform: event.platform, key: event.key, attempts }, "inbound event failed");
        await m.InboundEvent.update(
          { status: attempts >= MAX_ATTEMPTS ? "failed" : "received", attempts, lastError: String((err as Error)?.message ?? err).slice(0, 2000) },
          { where: { id } },
        );
      } finally {
        known.delete(id); // recover() may hand it to the bot again
      }
      return;
    }
    marks.add(id);
  }

  function schedule(id: number, event: InboundEvent) {
    if (known.has(id)) return;
    known.add(id);
    worker.push(`${event.platform}:${event.from}`, { id, event });
  }

  return {
    /**
     * De-duplication is the INSERT's own: the unique key on (platform, event_key) keeps one row, and
     * RETURNING says whether it was ours. A repeat is therefore answered as a duplicate only once the event
     * is committed — by this instance or another, whose uncommitted row the database makes us wait for —
     * and a repeat of an event whose write failed is stored then. A repeat arriving while this instance is
     * still writing the event waits for that write instead of queueing a second row.
     * (A cache SET NX in front of the INSERT used to claim events first: it answered no repeat sooner, a
     * repeat was looked up in the database anyway, and on Redis it cost a round trip per batch of callbacks.)
     */
    async receive(event) {
      const key = `${event.platform}:${event.key}`;
      receiving += 1;
      try {
        const own = writing.get(key);
        if (own) {
          await own; // a failed write rejects, and the caller answers with an error: the platform retries
          return { duplicate: true };
        }
        const write = writer.write(event, deps.now());
        writing.set(key, write);
        let id: number | null;
        try {
          ({ id } = await write);
        } finally {
          if (writing.get(key) === write) writing.delete(key);
        }
        if (id === null) return { duplicate: true };
        schedule(id, event);
        return { duplicate: false };
      } finally {
        receiving -= 1;
        lastReceived = Date.now();
        // Also while busy: a lane may have waited past maxDeferMs by now.
        worker.pump();
      }
    },
    async drain() {
      await writer.idle();
      await worker.idle();
      await marks.flush();
    },
    async recover(olderThanMs = 30_000) {
      const cutoff = new Date(deps.now().getTime() - olderThanMs);
      // Page through all of them (a crash during a burst can leave thousands), oldest first. A page is
      // read as ids only, and payloads are loaded just for the events not queued here: during a long burst
      // the stale events are mostly this instance's own backlog, and loading each one only to skip it cost
      // about 1 s of CPU per call over 50,000 of them (0.13–0.25 s now), while callbacks needed the CPU.
      let scheduled = 0;
      let after = 0;
      for (let page = 0; page < RECOVER_PAGES; page++) {
        const ids = (
          await m.InboundEvent.findAll({
            attributes: ["id"],
            where: { status: "received", receivedAt: { [Op.lte]: cutoff }, id: { [Op.gt]: after } },
            order: [["id", "ASC"]],
            limit: RECOVER_PAGE,
            raw: true,
          })
        ).map((r) => Number(r.id));
        const unknown = ids.filter((id) => !known.has(id));
        if (unknown.length > 0) {
          // Still "received": another instance may have finished one since the page was read.
          const stale = await m.InboundEvent.findAll({
            attributes: ["id", "payload"],
            where: { id: { [Op.in]: unknown }, status: "received" },
            order: [["id", "ASC"]],
          });
          for (const row of stale) {
            if (known.has(row.id)) continue;
            schedule(row.id, row.payload as unknown as InboundEvent);
            scheduled += 1;
          }
        }
        if (ids.length < RECOVER_PAGE) break;
        after = ids[ids.length - 1];
      }
      return scheduled;
    },
  };
}

/** "processed" marks, written as one UPDATE per short interval instead of one per event. */
function createMarks(deps: { db: Db; log: Logger; now: () => Date }, written: (ids: number[]) => void) {
  let ids: number[] = [];
  let timer: NodeJS.Timeout | null = null;
  let writing: Promise<void> = Promise.resolve();

  function flush(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = null;
    const batch = ids;
    ids = [];
    if (batch.length > 0) {
      writing = writing.then(() =>
        deps.db.models.InboundEvent.update({ status: "processed", processedAt: deps.now() }, { where: { id: { [Op.in]: batch } } })
          .then(() => undefined)
          // Left "received": recover() hands them to the bot again, and reply dedupe keys make that harmless.
          .catch((err) => deps.log.error({ err, events: batch.length }, "marking inbound events processed failed"))
          .finally(() => written(batch)),
      );
    }
    return writing;
  }

  return {
    add(id: number) {
      ids.push(id);
      if (ids.length >= 500) void flush();
      else timer ??= setTimeout(() => void flush(), MARK_EVERY_MS).unref();
    },
    flush,
  };
}
