import type { Logger } from "pino";
import type { InboundEvent } from "../channels/channel";
import type { ChannelRegistry } from "../channels/registry";
import { isDomainError } from "../domain/errors";
import type { Services } from "../services";
import type { ServiceDeps } from "../services/deps";
import { answerAction } from "./actions";
import { errorReply } from "./error-replies";
import { answerOpen } from "./greeting";
import { answerText } from "./intents";
import { writeReplies, type Reply } from "./replies";
import { resolveSender } from "./sender";
import type { Turn } from "./turn";

export interface BotDeps {
  services: Services;
  serviceDeps: ServiceDeps;
  channels: ChannelRegistry;
  log: Logger;
  now: () => Date;
}

/**
 * The conversation: an inbound event → who sent it → what they ask → a service call → replies written
 * to the outbox. A user's mistake (any DomainError) becomes a polite reply; anything else propagates,
 * so the inbound pipeline records it and handles the event again, and reply dedupe keys make that safe.
 */
export function createBot(deps: BotDeps): { handle(event: InboundEvent): Promise<void> } {
  const { log } = deps; // app.ts hands in a child logger already named "bot"
  return {
    async handle(event) {
      const sender = await resolveSender(deps, event);
      const turn: Turn = { deps, event, ...sender, afterReplies: [] };
      let replies: Reply[];
      try {
        replies = await answer(turn, event);
      } catch (err) {
        if (!isDomainError(err)) throw err;
        log.info({ code: err.code, kind: event.kind, userId: sender.user.id }, "request refused");
        replies = [errorReply(err, sender.locale)];
      }
      await writeReplies(deps.serviceDeps, event, sender.user.id, replies);
      for (const after of turn.afterReplies) await after();
      log.debug({ kind: event.kind, key: event.key, userId: sender.user.id, replies: replies.length }, "event answered");
    },
  };
}

function answer(turn: Turn, event: InboundEvent): Promise<Reply[]> {
  switch (event.kind) {
    case "text":
      return answerText(turn, event.text);
    case "card_action":
      return answerAction(turn, event.action, event.values ?? {});
    case "open":
      return answerOpen(turn);
  }
}
