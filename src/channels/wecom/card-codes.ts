import crypto from "node:crypto";
import type { Cache } from "../../cache/cache";
import type { WecomConfig } from "../../config";
import type { ClickCode } from "./inbound";

/**
 * response_code bookkeeping (wecom.md 5.4, gotcha 10). A code comes with every send of an interactive
 * card and with every click on it; each can be used for exactly one update_template_card call, and only
 * for a limited time: 72 h in current docs, 24 h in older copies, so we plan for 24 h. The newest click
 * code per (task_id, user) lives in the cache; using a code first claims it there (SET NX) so two
 * dispatchers, or a retry after a timeout, never spend the same code twice.
 */
export const CODE_LIFETIME_MS = 24 * 60 * 60 * 1000;
// Claims outlive the longest documented lifetime, so a claimed code is never seen as fresh again.
const CLAIM_TTL_MS = 73 * 60 * 60 * 1000;

export interface CardCodes {
  /** Keeps the code a click callback carried (routes.ts, before the event is handed on). */
  remember(click: ClickCode, at: Date): Promise<void>;
  /**
   * Claims the newest usable code for the card: the last click's, else the send's (when younger than
   * 24 h). null when none is left: the card can no longer be updated.
   */
  claim(card: { taskId: string; userId: string; sendCode: string | null; sentAt: Date | null }, now: Date): Promise<string | null>;
}

export function createCardCodes(config: WecomConfig, cache: Cache): CardCodes {
  const scope = `wecom:${config.corpId}:${config.agentId}`;
  // userids are case-insensitive (wecom.md conventions): WeCom may echo them in another case.
  const clickKey = (taskId: string, userId: string) => `${scope}:rc:${taskId}:${userId.toLowerCase()}`;
  const claimKey = (code: string) => `${scope}:rc-used:${crypto.createHash("sha256").update(code).digest("base64url")}`;

  return {
    async remember(click, at) {
      const value = JSON.stringify({ code: click.code, at: at.getTime() });
      await cache.set(clickKey(click.taskId, click.userId), value, CODE_LIFETIME_MS);
    },
    async claim(card, now) {
      const candidates: string[] = [];
      const stored = await cache.get(clickKey(card.taskId, card.userId));
      const click = stored ? (JSON.parse(stored) as { code: string; at: number }) : null;
      if (click && now.getTime() - click.at < CODE_LIFETIME_MS) candidates.push(click.code);
      if (card.sendCode && card.sentAt && now.getTime() - card.sentAt.getTime() < CODE_LIFETIME_MS) candidates.push(card.sendCode);
      for (const code of candidates) {
        if (await cache.setIfAbsent(claimKey(code), "1", CLAIM_TTL_MS)) return code;
      }
      return null;
    },
  };
}
