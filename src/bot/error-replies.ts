import { noticeText } from "../domain/cards";
import type { DomainError } from "../domain/errors";
import type { Locale } from "../domain/i18n";
import { listOf, say } from "./messages";
import { textReply, type Reply } from "./replies";

interface ShortItem {
  sku: string;
  requested?: number;
  available?: number;
}

/**
 * A refusal in words the sender can act on. Handlers that know more (which order, which step) answer
 * first; this is the fallback for whatever reaches the conversation, so no user mistake ever throws.
 */
export function errorReply(err: DomainError, locale: Locale): Reply {
  switch (err.code) {
    case "forbidden":
      return textReply(noticeText("forbidden_action", {}, locale));
    case "not_an_approver":
      return textReply(noticeText("forbidden_action", { scope: "approval" }, locale));
    case "step_not_pending":
      return textReply(noticeText("already_decided", {}, locale));
    case "invalid_transition":
      return textReply(say(locale, "invalidTransition"));
    case "insufficient_stock":
      return textReply(stockShortText(err, locale));
    case "conflict":
      return textReply(say(locale, "conflict"));
    case "not_found":
      return textReply(say(locale, "notFound"));
    case "no_approver":
      return textReply(say(locale, "noApprover"));
    case "idempotency_conflict":
      return textReply(say(locale, "alreadyPlaced"));
    case "validation_failed":
      return textReply(say(locale, "invalidInput"));
    default:
      return textReply(say(locale, "failed", { code: err.code }));
  }
}

/** 库存不足，订单未提交：SKU-1（需要 5，可用 2）… from the details reserveStock gives. */
export function stockShortText(err: DomainError, locale: Locale): string {
  const items = (err.details?.items as ShortItem[] | undefined) ?? [];
  const list = items.map((i) =>
    say(locale, "stockShortItem", { sku: i.sku, requested: i.requested ?? "?", available: i.available ?? 0 }),
  );
  return say(locale, "stockShort", { list: listOf(list, locale) });
}
