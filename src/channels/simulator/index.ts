import { EventEmitter } from "node:events";
import type { Sequelize } from "sequelize";
import type { Card } from "../../domain/card";
import { isUniqueViolation } from "../../db/sequelize";
import { ChannelError, type ChannelFailure, type ChatChannel, type ChatUser, type PlatformUser, type SentRef } from "../channel";
import { defineSimMessage, type SimMessageRow } from "./messages";

export interface SimulatorMessage {
  id: number;
  conversation: string;
  direction: "in" | "out";
  kind: "text" | "card";
  text: string | null;
  card: Card | null;
  at: string;
}

export interface SimulatorChannel extends ChatChannel {
  readonly platform: "simulator";
  /** "message" (new) and "update" (card redrawn) events, each with a SimulatorMessage. */
  readonly events: EventEmitter;
  /** Records what a person typed, so the conversation shows both sides. */
  recordInbound(platformUserId: string, text: string): Promise<SimulatorMessage>;
  history(conversation: string, limit?: number): Promise<SimulatorMessage[]>;
  /** Makes the next `count` sends fail as a platform outage would (dev console and tests). */
  failNext(count: number, failure?: ChannelFailure): void;
}

export interface SimulatorDeps {
  sequelize: Sequelize;
  publicUrl: string;
  now: () => Date;
  /** Looks a simulator user up in our own users table: the simulator's "directory". */
  findUser(platformUserId: string): Promise<PlatformUser | null>;
}

export const userConversation = (platformUserId: string) => `user:${platformUserId}`;

/** A chat platform that lives in the database: the default channel, used by the dev console and the tests. */
export function createSimulatorChannel(deps: SimulatorDeps): SimulatorChannel {
  const SimMessage = defineSimMessage(deps.sequelize);
  const events = new EventEmitter();
  events.setMaxListeners(0);
  let failures: { count: number; failure: ChannelFailure } = { count: 0, failure: "retry_later" };

  const present = (m: SimMessageRow): SimulatorMessage => ({
    id: m.id,
    conversation: m.conversation,
    direction: m.direction,
    kind: m.kind,
    text: m.text,
    card: m.card,
    at: m.updatedAt.toISOString(),
  });

  function maybeFail() {
    if (failures.count <= 0) return;
    failures.count -= 1;
    throw new ChannelError(failures.failure, "simulated platform failure", failures.failure === "retry_later" ? 10 : undefined);
  }

  async function post(conversation: string, body: { kind: "text" | "card"; text?: string; card?: Card }, dedupeKey: string): Promise<SentRef> {
    maybeFail();
    const at = deps.now();
    try {
      const row = await SimMessage.create({
        conversation,
        direction: "out",
        kind: body.kind,
        text: body.text ?? null,
        card: body.card ?? null,
        dedupeKey,
        createdAt: at,
        updatedAt: at,
      });
      events.emit("message", present(row));
      return { messageId: String(row.id), cardRef: body.kind === "card" ? { messageId: String(row.id) } : undefined };
    } catch (err) {
      // The platform side of "never twice": the same dedupe key is the same message.
      if (!isUniqueViolation(err)) throw err;
      const existing = await SimMessage.findOne({ where: { dedupeKey } });
      return { messageId: String(existing?.id), cardRef: body.kind === "card" ? { messageId: String(existing?.id) } : undefined };
    }
  }

  return {
    platform: "simulator",
    events,
    sendText: (to: ChatUser, text, opts) => post(userConversation(to.platformUserId), { kind: "text", text }, opts.dedupeKey),
    sendCard: (to: ChatUser, card, opts) => post(userConversation(to.platformUserId), { kind: "card", card }, opts.dedupeKey),
    notifyCustomer: (to, card, opts) => post(`customer:${to.target}`, { kind: "card", card }, opts.dedupeKey),
    async updateCard(ref, card) {
      maybeFail();
      const row = await SimMessage.findByPk(Number(ref.cardRef.messageId));
      if (!row) throw new ChannelError("gone", `card message ${String(ref.cardRef.messageId)} no longer exists`);
      row.card = card;
      row.updatedAt = deps.now();
      await row.save();
      events.emit("update", present(row));
    },
    async resolveUser(platformUserId) {
      const user = await deps.findUser(platformUserId);
      if (!user) throw new ChannelError("rejected", `no simulator user ${platformUserId}`);
      return user;
    },
    miniAppLink(user, path) {
      const next = encodeURIComponent(path);
      return `${deps.publicUrl}/dev/login?u=${encodeURIComponent(user.platformUserId)}&next=${next}`;
    },
    async lookupSent(dedupeKey) {
      const row = await SimMessage.findOne({ where: { dedupeKey } });
      return row ? { messageId: String(row.id), cardRef: row.kind === "card" ? { messageId: String(row.id) } : undefined } : null;
    },
    async recordInbound(platformUserId, text) {
      const at = deps.now();
      const row = await SimMessage.create({
        conversation: userConversation(platformUserId),
        direction: "in",
        kind: "text",
        text,
        card: null,
        dedupeKey: null,
        createdAt: at,
        updatedAt: at,
      });
      const message = present(row);
      events.emit("message", message);
      return message;
    },
    async history(conversation, limit = 100) {
      const rows = await SimMessage.findAll({ where: { conversation }, order: [["id", "DESC"]], limit });
      return rows.reverse().map(present);
    },
    failNext(count, failure = "retry_later") {
      failures = { count, failure };
    },
    async close() {
      events.removeAllListeners();
    },
  };
}
