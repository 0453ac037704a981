import crypto from "node:crypto";
import type { Cache } from "../../cache/cache";
import type { WecomConfig } from "../../config";
import type { ClickCode } from "./inbound";

/**
 * response_code bookkeeping (wecom.md 5.4, gotcha 10). A code comes with every send of an interactive
 * card and with every click on it; each can be used for exactly one update_template_card call, and only
 * for a limited time: 72 h in current docs, 24 h in older copies, so we plan for 24 h.
 *
 * Where the codes live:
 * - card_refs (CardCodeStore) is the durable record: per card (one recipient each) the latest tap code,
 *   when it was issued and when it was spent, and when the send's code (kept in platform_ref) was spent.
 *   Spending is a conditional UPDATE, so two dispatchers, or a retry after a timeout, never spend the
 *   same code twice, and a restart forgets nothing.
 * - The cache holds each tap's code from the moment the callback is answered (the fast path): a tap is
 *   recorded in card_refs by the bot's handling of the event, after the answer, and an update that
 *   runs in between still finds it here.
 * Without a store (a channel built without a database) the cache alone is used, claims taken by SET NX.
 */
export const CODE_LIFETIME_MS = 24 * 60 * 60 * 1000;
// Claims outlive the longest documented lifetime, so a claimed code is never seen as fresh again.
const CLAIM_TTL_MS = 73 * 60 * 60 * 1000;

/** What card_refs holds about one card's codes (migrations/0008-card-ref-codes.ts). */
export interface StoredCodes {
  /** The recipient's latest tap code: when it was issued, and when it was spent (null: unused). */
  tap: { code: string; issuedAt: Date; usedAt: Date | null } | null;
  /** When the send's code was spent; null while unused (or when the send came without one). */
  sendUsedAt: Date | null;
}

/** The durable record of the codes of each card we sent (card_refs, card-code-store.ts). */
export interface CardCodeStore {
  /** The card's codes; null when no card_refs row has this task_id. */
  find(taskId: string): Promise<StoredCodes | null>;
  /**
   * Keeps `code` as the latest tap code of the card, if `userId` is its recipient (case-insensitively),
   * unless it already holds one issued at or after `issuedAt`: the newest wins, and recording a code
   * again never makes it unused. True when it was written.
   */
  record(taskId: string, userId: string, code: string, issuedAt: Date): Promise<boolean>;
  /** Marks tap code `code` spent if it is still the card's latest and unused: true for one caller only. */
  spendTap(taskId: string, code: string, at: Date): Promise<boolean>;
  /** Marks the send's code spent if it is still unused: true for one caller only. */
  spendSend(taskId: string, at: Date): Promise<boolean>;
}

export interface CardCodes {
  /** Keeps the code a click callback carried in the cache (routes.ts, before the callback is answered). */
  remember(click: ClickCode, at: Date): Promise<void>;
  /** Records the code in card_refs (the bot's handling of the tap, after the answer); no-op without a store. */
  record(click: ClickCode, at: Date): Promise<void>;
  /**
   * Claims the newest usable code for the card: its recipient's last tap's, else the send's (each when
   * younger than 24 h and never spent). null when none is left: the card can no longer be updated.
   */
  claim(card: { taskId: string; userId: string; sendCode: string | null; sentAt: Date | null }, now: Date): Promise<string | null>;
}

export function createCardCodes(config: WecomConfig, cache: Cache, store?: CardCodeStore): CardCodes {
  const scope = `wecom:${config.corpId}:${config.agentId}`;
  // userids are case-insensitive (wecom.md conventions): WeCom may echo them in another case.
  const clickKey = (taskId: string, userId: string) => `${scope}:rc:${taskId}:${userId.toLowerCase()}`;
  const claimKey = (code: string) => `${scope}:rc-used:${crypto.createHash("sha256").update(code).digest("base64url")}`;
  const cacheClaim = (code: string) => cache.setIfAbsent(claimKey(code), "1", CLAIM_TTL_MS);

  async function cachedClick(taskId: string, userId: string): Promise<{ code: string; at: number } | null> {
    const stored = await cache.get(clickKey(taskId, userId));
    return stored ? (JSON.parse(stored) as { code: string; at: number }) : null;
  }

  /**
   * Spent in card_refs first (the record that counts), then also claimed in the cache as before: an
   * instance of the previous release (cache only) and this one agree while both run during an upgrade,
   * and a code one of those claimed before it is not used again.
   */
  async function spend(inStore: () => Promise<boolean>, code: string): Promise<boolean> {
    return (await inStore()) && (await cacheClaim(code));
  }

  return {
    async remember(click, at) {
      const value = JSON.stringify({ code: click.code, at: at.getTime() });
      await cache.set(clickKey(click.taskId, click.userId), value, CODE_LIFETIME_MS);
    },
    async record(click, at) {
      await store?.record(click.taskId, click.userId, click.code, at);
    },
    async claim(card, now) {
      const fresh = (at: number) => now.getTime() - at < CODE_LIFETIME_MS;
      const click = await cachedClick(card.taskId, card.userId);
      let stored = store ? await store.find(card.taskId) : null;
      if (!store || !stored) {
        // Nothing durable about this card: the cache alone, as a channel without a database uses it.
        const candidates: string[] = [];
        if (click && fresh(click.at)) candidates.push(click.code);
        if (card.sendCode && card.sentAt && fresh(card.sentAt.getTime())) candidates.push(card.sendCode);
        for (const code of candidates) if (await cacheClaim(code)) return code;
        return null;
      }
      // A tap whose event the bot has not handled yet is only in the cache: record it now, so that it is
      // spent where it is recorded (and the bot's own record of it later changes nothing).
      if (click && (!stored.tap || click.at > stored.tap.issuedAt.getTime())) {
        await store.record(card.taskId, card.userId, click.code, new Date(click.at));
        stored = (await store.find(card.taskId)) ?? stored;
      }
      const { tap } = stored;
      if (tap && !tap.usedAt && fresh(tap.issuedAt.getTime()) && (await spend(() => store.spendTap(card.taskId, tap.code, now), tap.code))) {
        return tap.code;
      }
      const { sendCode, sentAt } = card;
      if (sendCode && sentAt && fresh(sentAt.getTime()) && !stored.sendUsedAt && (await spend(() => store.spendSend(card.taskId, now), sendCode))) {
        return sendCode;
      }
      return null;
    },
  };
}
