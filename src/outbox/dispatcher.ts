import os from "node:os";
import { Op } from "sequelize";
import type { Logger } from "pino";
import type { Cache } from "../cache/cache";
import type { Db } from "../db/sequelize";
import type { OutboxRow } from "../db/models/messaging";
import type { Trace } from "../trace";
import { ChannelError } from "../channels/channel";
import { backoffMs } from "./backoff";
import type { Deliverers } from "./deliver";

export interface DispatcherOptions {
  batchSize: number;
  leaseMs: number;
  maxAttempts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  pollMs: number;
  /** Identifies this dispatcher in leases, so only the holder can finish a row. */
  name?: string;
}

export interface Dispatcher {
  /** Claims and delivers one batch; returns how many rows it settled. Tests drive this directly. */
  runOnce(): Promise<{ claimed: number; sent: number; retried: number; dead: number; deferred: number }>;
  start(): void;
  /**
   * Rows were just committed to the outbox by this process: look within a few milliseconds instead of
   * at the next poll. A hint only — a nudge that finds nothing costs one claim query, and rows written
   * elsewhere (another instance) are still found by the poll.
   */
  nudge(): void;
  /**
   * Finishes the row in hand (waiting at most `waitMs`, default 5 s), then hands back every row this
   * dispatcher holds a lease on but has not started, for any instance to take at once.
   */
  stop(waitMs?: number): Promise<void>;
}

/**
 * Whose messages must stay in order: a person's; a customer's notices, across their orders (so several
 * held back by a per-customer cap can go out together as one digest); or else an order's.
 */
function laneOf(row: OutboxRow): string | null {
  const p = row.payload as { userId?: number; customerId?: number; orderId?: number };
  if (typeof p.userId === "number") return `user:${p.userId}`;
  if (typeof p.customerId === "number") return `customer:${p.customerId}`;
  if (typeof p.orderId === "number") return `order:${p.orderId}`;
  return null;
}

/** How long a nudged dispatcher waits before it claims, so the commits of one burst share a claim. */
const NUDGE_DELAY_MS = 5;

/** Raised by a deliverer that must wait for a rate-limit token: the row is deferred, not failed. */
export class Deferred extends Error {
  constructor(readonly waitMs: number) {
    super(`rate limited for ${waitMs} ms`);
  }
}

/**
 * Delivers outbox rows. Rows are claimed in batches under a lease (SKIP LOCKED on MySQL, so many
 * instances can dispatch at once); a row is marked `sending` before the platform call and `sent` with
 * the platform's reply after it. A row found still `sending` after its lease expired was interrupted
 * mid-call: it is re-checked with the platform, never blindly sent again.
 */
export function createDispatcher(
  deps: { db: Db; cache: Cache; log: Logger; now: () => Date; deliverers: Deliverers; trace?: Trace },
  opts: DispatcherOptions,
): Dispatcher {
  const { db, log } = deps;
  const me = opts.name ?? `${os.hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  let timer: NodeJS.Timeout | null = null;
  let timerDue = 0;
  let running: Promise<unknown> | null = null;
  // A run is claiming or delivering; a nudge meanwhile asks for another run right after it.
  let busy = false;
  let nudged = false;
  // The last run failed (the database, most likely): nudges wait for its back-off like the poll does.
  let failing = false;
  let stopped = true;
  // Set by stop() (until the next start): the batch in hand ends after its current row, not at its end.
  let stopping = false;

  async function claim(): Promise<OutboxRow[]> {
    const now = deps.now();
    return db.transaction(async (tx) => {
      const rows = await db.models.Outbox.findAll({
        where: {
          [Op.or]: [
            { status: "pending", nextAttemptAt: { [Op.lte]: now } },
            { status: { [Op.in]: ["leased", "sending"] }, leaseUntil: { [Op.lte]: now } },
          ],
        },
        order: [["nextAttemptAt", "ASC"], ["id", "ASC"]],
        limit: opts.batchSize,
        transaction: tx,
        lock: db.lock,
        skipLocked: db.dialect === "mysql",
      });
      if (rows.length === 0) return [];
      const leaseUntil = new Date(now.getTime() + opts.leaseMs);
      // `sending` rows keep their status: the deliverer must know they were interrupted mid-call.
      await db.models.Outbox.update(
        { status: "leased", leasedBy: me, leaseUntil },
        { where: { id: { [Op.in]: rows.filter((r) => r.status !== "sending").map((r) => r.id) } }, transaction: tx },
      );
      await db.models.Outbox.update(
        { leasedBy: me, leaseUntil },
        { where: { id: { [Op.in]: rows.filter((r) => r.status === "sending").map((r) => r.id) } }, transaction: tx },
      );
      return rows;
    });
  }

  async function settle(row: OutboxRow, fields: Partial<OutboxRow>) {
    // Only the lease holder may settle: a row re-claimed by another dispatcher is theirs now.
    await db.models.Outbox.update(fields, { where: { id: row.id, leasedBy: me } });
  }

  type Outcome = { kind: "sent" | "dead" } | { kind: "retried" | "deferred"; nextAttemptAt: Date };

  /**
   * Delivers `row`, and with it any of `followers` (the rows right behind it in its lane, in order) the
   * deliverer takes into the same send — a digest. Taken rows share the head's fate step by step: marked
   * `sending` with it before the platform call, `sent` with it after, back to `pending` behind it when
   * it fails. A crash between the two leaves all of them `sending`, so each is checked with the platform
   * (lookupSent) before anything is sent again — never re-sent blindly.
   */
  async function deliver(row: OutboxRow, followers: OutboxRow[] = []): Promise<Outcome & { absorbed: number[] }> {
    let taken: OutboxRow[] = [];
    let marked = false;
    const outcome = await deliverHead(row, {
      followers,
      take: (n) => {
        // A prefix only, stopping before a row caught mid-send: that one must be checked on its own first.
        const stop = followers.findIndex((f) => f.status === "sending");
        taken = followers.slice(0, Math.max(0, Math.min(n, stop === -1 ? n : stop)));
      },
      markTaken: async () => {
        if (taken.length === 0) return;
        marked = true;
        await db.models.Outbox.update(
          { status: "sending", attempts: db.sequelize.literal("attempts + 1") as unknown as number },
          { where: { id: { [Op.in]: taken.map((r) => r.id) }, leasedBy: me } },
        );
      },
    });
    const ids = taken.map((r) => r.id);
    if (ids.length === 0) return { ...outcome, absorbed: [] };
    if (outcome.kind === "sent") {
      await db.models.Outbox.update(
        { status: "sent", platformRef: { digestOf: row.id } as OutboxRow["platformRef"], sentAt: deps.now(), leaseUntil: null, lastError: null },
        { where: { id: { [Op.in]: ids }, leasedBy: me } },
      );
      return { ...outcome, absorbed: ids };
    }
    // Not sent: the taken rows wait behind their head again (their lane keeps its order).
    if (marked) {
      const after = "nextAttemptAt" in outcome ? outcome.nextAttemptAt : deps.now();
      await db.models.Outbox.update(
        { status: "pending", nextAttemptAt: new Date(after.getTime() + 1), leaseUntil: null },
        { where: { id: { [Op.in]: ids }, leasedBy: me } },
      );
    }
    return { ...outcome, absorbed: [] };
  }

  async function deliverHead(
    row: OutboxRow,
    digest: { followers: OutboxRow[]; take(n: number): void; markTaken(): Promise<void> },
  ): Promise<Outcome> {
    const deliverer = deps.deliverers[row.topic];
    if (!deliverer) {
      await settle(row, { status: "dead", lastError: `no deliverer for topic ${row.topic}`, leaseUntil: null });
      return { kind: "dead" };
    }
    const interrupted = row.status === "sending";
    const attempt = row.attempts + 1;
    try {
      const markSending = async () => {
        await db.models.Outbox.update({ status: "sending", attempts: attempt }, { where: { id: row.id, leasedBy: me } });
        await digest.markTaken();
      };
      const started = performance.now();
      const platformRef = await deliverer({ row, interrupted, markSending, followers: digest.followers, take: digest.take });
      await settle(row, { status: "sent", platformRef: platformRef ?? null, sentAt: deps.now(), leaseUntil: null, lastError: null, attempts: attempt });
      // Every attempt is logged with the trace id of the request or event that wrote the row.
      log.info({ outboxId: row.id, topic: row.topic, attempt, ms: Math.round(performance.now() - started), traceId: row.traceId ?? undefined }, "outbox message sent");
      return { kind: "sent" };
    } catch (err) {
      if (err instanceof Deferred) {
        const nextAttemptAt = new Date(deps.now().getTime() + err.waitMs);
        await settle(row, { status: "pending", nextAttemptAt, leaseUntil: null });
        return { kind: "deferred", nextAttemptAt };
      }
      const message = err instanceof Error ? err.message : String(err);
      const permanent = err instanceof ChannelError && err.failure === "rejected";
      if (permanent || attempt >= opts.maxAttempts) {
        log.error({ outboxId: row.id, topic: row.topic, attempt, err: message, traceId: row.traceId ?? undefined }, "outbox row is dead");
        await settle(row, { status: "dead", attempts: attempt, lastError: message.slice(0, 2000), leaseUntil: null });
        return { kind: "dead" };
      }
      const hinted = err instanceof ChannelError ? (err.retryAfterMs ?? 0) : 0;
      const wait = Math.max(hinted, backoffMs(attempt, opts.backoffBaseMs, opts.backoffMaxMs));
      log.warn({ outboxId: row.id, topic: row.topic, attempt, waitMs: wait, err: message, traceId: row.traceId ?? undefined }, "send failed, will retry");
      const nextAttemptAt = new Date(deps.now().getTime() + wait);
      await settle(row, { status: "pending", attempts: attempt, nextAttemptAt, lastError: message.slice(0, 2000), leaseUntil: null });
      return { kind: "retried", nextAttemptAt };
    }
  }

  async function runOnce() {
    const rows = await claim();
    const tally = { claimed: rows.length, sent: 0, retried: 0, dead: 0, deferred: 0 };
    // In order, one at a time. When a row for someone has to wait, their later rows wait behind it,
    // so a person never reads "shipped" before "approved".
    const waiting = new Map<string, Date>();
    const absorbed = new Set<number>();
    for (const [i, row] of rows.entries()) {
      if (stopping) break; // the rest stay leased to us until stop() hands them back
      if (absorbed.has(row.id)) continue; // sent inside an earlier row's digest
      const lane = laneOf(row);
      const ahead = lane ? waiting.get(lane) : undefined;
      if (ahead) {
        const nextAttemptAt = new Date(ahead.getTime() + 1);
        await settle(row, { status: row.status === "sending" ? "sending" : "pending", nextAttemptAt, leaseUntil: row.status === "sending" ? new Date(0) : null });
        waiting.set(lane!, nextAttemptAt);
        tally.deferred += 1;
        continue;
      }
      // The rest of this lane in the batch, in order, up to the first row someone must check first.
      const followers = lane ? rows.slice(i + 1).filter((r) => laneOf(r) === lane && !absorbed.has(r.id)) : [];
      // Under the row's trace, so whatever the deliverer and the platform client log carries it too.
      const outcome = deps.trace ? await deps.trace.run(row.traceId ?? null, () => deliver(row, followers)) : await deliver(row, followers);
      tally[outcome.kind] += 1;
      for (const id of outcome.absorbed) absorbed.add(id);
      tally.sent += outcome.absorbed.length;
      if (lane && (outcome.kind === "retried" || outcome.kind === "deferred")) waiting.set(lane, outcome.nextAttemptAt);
    }
    return tally;
  }

  function schedule(delay: number) {
    if (stopped) return;
    timerDue = Date.now() + delay;
    timer = setTimeout(() => {
      timer = null;
      busy = true;
      nudged = false;
      running = runOnce()
        .then((t) => {
          busy = false;
          failing = false;
          schedule(t.claimed >= opts.batchSize || nudged ? 0 : opts.pollMs);
        })
        .catch((err) => {
          busy = false;
          failing = true;
          log.error({ err }, "outbox dispatch failed");
          schedule(opts.pollMs * 4);
        });
    }, delay);
  }

  function nudge() {
    if (stopped || failing) return;
    if (busy) {
      nudged = true;
      return;
    }
    // Commits of one burst (a callback batch, an Excel import) land within a few ms: one claim takes them all.
    if (timer && timerDue > Date.now() + NUDGE_DELAY_MS) {
      clearTimeout(timer);
      schedule(NUDGE_DELAY_MS);
    }
  }

  /**
   * Rows claimed but not yet tried go back to pending at once, for any instance to take. A row marked
   * `sending` keeps its lease: its platform call may still be under way, and it is checked with the
   * platform by whoever takes it once the lease ends, as after a crash.
   */
  async function release() {
    const [released] = await db.models.Outbox.update({ status: "pending", leasedBy: null, leaseUntil: null }, { where: { leasedBy: me, status: "leased" } });
    if (released > 0) log.info({ released }, "outbox leases released");
  }

  return {
    runOnce,
    nudge,
    start() {
      if (!stopped) return;
      stopped = false;
      stopping = false;
      schedule(0);
    },
    async stop(waitMs = 5_000) {
      stopped = true;
      stopping = true;
      if (timer) clearTimeout(timer);
      let wait: NodeJS.Timeout | undefined;
      try {
        // A platform call that hangs past waitMs is left to its lease (see release). Rows not started are
        // released either way, and the loop cannot touch them after that: settling requires our lease.
        await Promise.race([running?.catch(() => undefined), new Promise<void>((resolve) => (wait = setTimeout(resolve, waitMs)))]);
        await release();
      } finally {
        clearTimeout(wait);
      }
    },
  };
}
