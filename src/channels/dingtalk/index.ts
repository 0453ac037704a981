import type { Logger } from "pino";
import type { Cache } from "../../cache/cache";
import type { DingtalkConfig } from "../../config";
import type { Card } from "../../domain/card";
import { projectPath } from "../../paths";
import { ChannelError, type ChatChannel, type CustomerContact, type SentRef } from "../channel";
import { createDingtalkClient, type DingtalkClient, type Json } from "./client";
import { createDingtalkDirectory, type DingtalkDirectory } from "./directory";
import { newOutTrackId, rememberButtons } from "./keys";
import { actionPath, miniAppLink } from "./links";
import { createDingtalkRenderer, type RenderContext } from "./render";
import { robotWebhookUrl, signedWebhookUrl } from "./webhook";

export { createDingtalkStream, type DingtalkStream } from "./stream";
export { dingtalkRobotBucket } from "./webhook";
export { createDingtalkClient, type DingtalkClient } from "./client";
export { createDingtalkDirectory, type DingtalkDirectory } from "./directory";

export interface DingtalkChannelDeps {
  cache: Cache;
  log: Logger;
  now: () => Date;
  publicUrl: string;
  /** Shared with the H5 routes, so both use one token cache; made here when absent. */
  client?: DingtalkClient;
  directory?: DingtalkDirectory;
  fetch?: typeof fetch;
  templatesDir?: string;
}

/** What card_refs.platform_ref holds for a DingTalk card. */
interface DingtalkCardRef {
  outTrackId: string;
  /** The template it was created with; null for an action card or markdown, which cannot be updated. */
  templateId: string | null;
  userId: string;
}

/** The DingTalk internal app's robot as a ChatChannel (dingtalk.md 4, 5, 7). */
export function createDingtalkChannel(config: DingtalkConfig, deps: DingtalkChannelDeps): ChatChannel {
  const { cache, now } = deps;
  const client = deps.client ?? createDingtalkClient(config, { cache, log: deps.log, now, fetch: deps.fetch });
  const directory = deps.directory ?? createDingtalkDirectory(config, { client, cache });
  const render = createDingtalkRenderer(deps.templatesDir ?? projectPath("cards/dingtalk"));
  const ctx: RenderContext = {
    link: (path) => miniAppLink(deps.publicUrl, path),
    buttonUrl: (b) => miniAppLink(deps.publicUrl, actionPath(config, b.key)),
  };

  /** One-to-one robot message (dingtalk.md 4); a skipped recipient is an error, never a silent success. */
  async function toMember(userId: string, msgKey: string, msgParam: object): Promise<SentRef> {
    const res = await client.api("POST", "/v1.0/robot/oToMessages/batchSend", { robotCode: config.robotCode, userIds: [userId], msgKey, msgParam: JSON.stringify(msgParam) });
    if (listed(res.flowControlledStaffIdList, userId)) throw new ChannelError("retry_later", `dingtalk flow-controlled messages to ${userId}`, 60_000);
    if (listed(res.invalidStaffIdList, userId)) throw new ChannelError("gone", `dingtalk user ${userId} cannot receive robot messages`);
    return { messageId: typeof res.processQueryKey === "string" ? res.processQueryKey : "" };
  }

  function templateFor(card: Card): string | null {
    const { approval, action } = config.templates;
    return card.kind === "approval" ? (approval ?? action) : (action ?? approval);
  }

  async function deliverCard(userId: string, card: Card, templateId: string): Promise<SentRef> {
    const outTrackId = newOutTrackId();
    const { params, buttons } = render.cardParams(card, ctx);
    // Kept before the send: a tap can arrive before createAndDeliver has even answered.
    await rememberButtons(cache, outTrackId, buttons.map((b) => b.key));
    const res = await client.api("POST", "/v1.0/card/instances/createAndDeliver", {
      cardTemplateId: templateId,
      outTrackId,
      callbackType: "STREAM",
      cardData: { cardParamMap: params },
      openSpaceId: `dtv1.card//IM_ROBOT.${userId}`,
      imRobotOpenSpaceModel: { supportForward: false },
      imRobotOpenDeliverModel: { spaceType: "IM_ROBOT", robotCode: config.robotCode },
      userIdType: 1,
    });
    const results = Array.isArray((res.result as Json | undefined)?.deliverResults) ? ((res.result as Json).deliverResults as Json[]) : [];
    const failed = results.find((r) => r && r.success === false);
    if (failed) throw new ChannelError("rejected", `dingtalk card not delivered to ${userId}: ${String(failed.errorMsg ?? "unknown").slice(0, 160)}`);
    const cardRef: DingtalkCardRef = { outTrackId, templateId, userId };
    return { messageId: outTrackId, cardRef: { ...cardRef } };
  }

  async function sendCard(userId: string, card: Card): Promise<SentRef> {
    const templateId = templateFor(card);
    if (templateId) return deliverCard(userId, card, templateId);
    // No template: an action card whose buttons open signed links into the mini-app (actions.ts).
    const interactive = card.buttons.length > 0 || !!card.select || !!card.link;
    const sent = interactive
      ? await (async () => {
          const a = render.actionCard(card, ctx);
          return toMember(userId, a.msgKey, a.msgParam);
        })()
      : await toMember(userId, "sampleMarkdown", render.markdown(card, ctx));
    const cardRef: DingtalkCardRef = { outTrackId: "", templateId: null, userId };
    return { ...sent, cardRef: { ...cardRef } };
  }

  async function notifyCustomer(to: CustomerContact, card: Card, dedupeKey: string): Promise<SentRef> {
    const markdown = render.markdown(card, null);
    const webhook = robotWebhookUrl(to.target, config.oapiBase);
    if (webhook) {
      await client.webhook(signedWebhookUrl(webhook, to.secret ?? null, now()), { msgtype: "markdown", markdown });
      return { messageId: `robot:${dedupeKey}` };
    }
    if (/^https?:/i.test(to.target)) throw new ChannelError("rejected", "a dingtalk customer target is a group openConversationId or a custom robot webhook URL on oapi.dingtalk.com");
    const res = await client.api("POST", "/v1.0/robot/groupMessages/send", {
      robotCode: config.robotCode,
      openConversationId: to.target,
      msgKey: "sampleMarkdown",
      msgParam: JSON.stringify(markdown),
    });
    return { messageId: typeof res.processQueryKey === "string" ? res.processQueryKey : `group:${dedupeKey}` };
  }

  return {
    platform: "dingtalk",
    async sendText(to, text) {
      return toMember(to.platformUserId, "sampleText", render.text(text));
    },
    sendCard: (to, card) => sendCard(to.platformUserId, card),
    async updateCard(ref, card) {
      const r = ref.cardRef as Partial<DingtalkCardRef>;
      if (!r.outTrackId || !r.templateId) throw new ChannelError("gone", "this dingtalk card was sent without a template and cannot be updated");
      const { params, buttons } = render.cardParams(card, ctx);
      await rememberButtons(cache, r.outTrackId, buttons.map((b) => b.key));
      // updateCardDataByKey: only these keys change, for everyone who has the card (dingtalk.md 5).
      await client.api("PUT", "/v1.0/card/instances", {
        outTrackId: r.outTrackId,
        cardData: { cardParamMap: params },
        cardUpdateOptions: { updateCardDataByKey: true },
      });
    },
    notifyCustomer: (to, card, opts) => notifyCustomer(to, card, opts.dedupeKey),
    async resolveUser(userid) {
      const record = await directory.lookup(userid);
      if (!record.found) throw new ChannelError("rejected", `dingtalk user ${userid} is not in the directory`);
      return record;
    },
    miniAppLink: (_user, path) => miniAppLink(deps.publicUrl, path),
    // DingTalk cannot look a message up by our key: the dispatcher then never re-sends blindly.
    lookupSent: async () => undefined,
    ready: () => client.ready(),
  };
}

const listed = (list: unknown, userId: string) => Array.isArray(list) && list.some((id) => id === userId);
