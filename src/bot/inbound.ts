import { Op } from "sequelize";
import type { Logger } from "pino";
import type { Cache } from "../cache/cache";
import type { Db } from "../db/sequelize";
import { isUniqueViolation } from "../db/sequelize";
import type { InboundEvent } from "../channels/channel";

const DEDUPE_TTL_MS = 24 * 60 * 60 * 1000;
const MAX_ATTEMPTS = 3;

export interface InboundPipeline {
  /**
   * Accepts an event from a platform: de-duplicated (cache SET NX, then the inbound_events unique key),
   * persisted, and handed to the bot after this returns — so a callback can be answered at once.
   */
  receive(event: InboundEvent): Promise<{ duplicate: boolean }>;
  /** Resolves when everything received so far has been handled (tests, shutdown). */
  drain(): Promise<void>;
  /** Handles events persisted but never finished (a crash between acknowledging and handling). */
  recover(olderThanMs?: number): Promise<number>;
}

export function createInboundPipeline(deps: {
  db: Db;
  cache: Cache;
  log: Logger;
  now: () => Date;
  handle: (event: InboundEvent) => Promise<void>;
}): InboundPipeline {
  const m = deps.db.models;
  // One queue per sender keeps a person's messages in the order they typed them.
  const queues = new Map<string, Promise<void>>();

  async function process(id: number, event: InboundEvent) {
    try {
      await deps.handle(event);
      await m.InboundEvent.update({ status: "processed", processedAt: deps.now() }, { where: { id } });
    } catch (err) {
      const row = await m.InboundEvent.findByPk(id);
      const attempts = (row?.attempts ?? 0) + 1;
      deps.log.error({ err, platform: event.platform, key: event.key, attempts }, "inbound event failed");
      await m.InboundEvent.update(
        { status: attempts >= MAX_ATTEMPTS ? "failed" : "received", attempts, lastError: String((err as Error)?.message ?? err).slice(0, 2000) },
        { where: { id } },
      );
    }
  }

  function schedule(id: number, event: InboundEvent) {
    const lane = `${event.platform}:${event.from}`;
    const next = (queues.get(lane) ?? Promise.resolve()).then(() => process(id, event));
    queues.set(lane, next);
    void next.finally(() => {
      if (queues.get(lane) === next) queues.delete(lane);
    });
  }

  return {
    async receive(event) {
      const first = await deps.cache.setIfAbsent(`inbound:${event.platform}:${event.key}`, "1", DEDUPE_TTL_MS);
      if (!first) return { duplicate: true };
      let id: number;
      try {
        const row = await m.InboundEvent.create({
          platform: event.platform,
          eventKey: event.key,
          kind: event.kind,
          payload: event as unknown as Record<string, unknown>,
          receivedAt: deps.now(),
        });
        id = row.id;
      } catch (err) {
        if (isUniqueViolation(err)) return { duplicate: true };
        await deps.cache.del(`inbound:${event.platform}:${event.key}`);
        throw err;
      }
      schedule(id, event);
      return { duplicate: false };
    },
    async drain() {
      while (queues.size > 0) await Promise.all([...queues.values()]);
    },
    async recover(olderThanMs = 30_000) {
      const cutoff = new Date(deps.now().getTime() - olderThanMs);
      const stale = await m.InboundEvent.findAll({
        where: { status: "received", receivedAt: { [Op.lte]: cutoff } },
        order: [["id", "ASC"]],
        limit: 500,
      });
      for (const row of stale) schedule(row.id, row.payload as unknown as InboundEvent);
      return stale.length;
    },
  };
}
