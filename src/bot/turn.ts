import type { InboundEvent } from "../channels/channel";
import type { Locale } from "../domain/i18n";
import type { Actor } from "../domain/roles";
import type { BotDeps } from "./conversation";
import type { SenderUser } from "./sender";

/** One inbound event being answered: who sent it, as whom they act, and in which language to reply. */
export interface Turn {
  deps: BotDeps;
  event: InboundEvent;
  user: SenderUser;
  actor: Actor;
  locale: Locale;
  /**
   * Cache clean-ups run only once the replies are committed: if the process dies before that, the
   * event is handled again and must find the same state (a remembered reject, an unsent greeting).
   */
  afterReplies: Array<() => Promise<void>>;
}

/** The sender's user id; every turn has a user row, so it is never null. */
export function me(turn: Turn): number {
  return turn.user.id;
}
