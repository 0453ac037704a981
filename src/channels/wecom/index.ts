import crypto from "node:crypto";
import type { Logger } from "pino";
import type { Cache } from "../../cache/cache";
import type { WecomConfig } from "../../config";
import { projectPath } from "../../paths";
import type { ApiCallObserver } from "../../metrics/metrics";
import { ChannelError, type ChatChannel, type ChatUser, type SentRef } from "../channel";
import { createCardCodes, type CardCodeStore } from "./card-codes";
import { WecomApiError, createWecomClient, type ApiResult } from "./client";
import { MSG_TEMPLATE_TEXT_BYTES, sendMsgTemplate } from "./external-contacts";
import { KeyTooLongError } from "./keys";
import { miniAppLink, robotKey } from "./links";
import { cardTypeOf, createWecomRenderer, type TemplateCard, type WecomCardType } from "./render";
import { createWecomDirectory, type WecomDirectory } from "./roles";
import { LIMITS } from "./limits";
import { WECOM_MEMBER_PACE, wecomMemberBucket } from "./pacing";

export { wecomCallbackRoutes, wecomCallbacks, WECOM_CALLBACK_PATH, type WecomCallbackDeps } from "./routes";
export { oauthState, safeNext } from "./links";
export { groupMsgSendResult, type GroupMsgSend, type GroupMsgStatus } from "./group-msg-result";
export { msgTemplateCapSince, msgTemplateCapWait, ownerConfirmText, MSG_TEMPLATE_CAPS } from "./external-contacts";
export { WECOM_MEMBER_PACE, WECOM_ROBOT_PACE, wecomMemberBucket, wecomRobotBucket, type Pace } from "./pacing";

export interface WecomChannelDeps {
  cache: Cache;
  log: Logger;
  now: () => Date;
  publicUrl: string;
  fetch?: typeof fetch;
  /** cards/wecom unless a test points elsewhere. */
  templatesDir?: string;
  timeoutMs?: number;
  tokenWaitMs?: number;
  onCall?: ApiCallObserver;
  /** Shared with the OAuth routes and the nightly refresh, so all read members one way; made here when absent. */
  directory?: WecomDirectory;
  /** card_refs as the durable record of update codes (card-code-store.ts); without it, the cache alone. */
  codeStore?: CardCodeStore;
}

/** What card_refs.platform_ref holds for a WeCom card. */
interface WecomCardRef {
  task_id: string;
  userid: string;
  card_type: WecomCardType;
  response_code?: string;
  sent_at: string;
}

const INTERACTIVE = new Set<string>(["button_interaction", "multiple_interaction"]);
// 42015 "belongs to another app", 42016 "task_id not found" (wecom.md 3.2): the card cannot be updated.
const GONE_ERRCODES = new Set([42015, 42016]);

/** The WeCom self-built app as a ChatChannel (wecom.md 4, 5, 6.1, 7.2, 7.3, 8.1). */
export function createWecomChannel(config: WecomConfig, deps: WecomChannelDeps): ChatChannel {
  const { cache, now } = deps;
  const clientDeps = { cache, log: deps.log, now, fetch: deps.fetch, timeoutMs: deps.timeoutMs, tokenWaitMs: deps.tokenWaitMs, onCall: deps.onCall };
  const client = createWecomClient(config, clientDeps);
  const render = createWecomRenderer(deps.templatesDir ?? projectPath("cards/wecom"));
  const codes = createCardCodes(config, cache, deps.codeStore);
  const directory = deps.directory ?? createWecomDirectory(config, { client, cache, log: deps.log });
  const link = (path: string) => miniAppLink(deps.publicUrl, path);

  async function send(touser: string, message: Record<string, unknown>): Promise<ApiResult> {
    const res = await client.post("/cgi-bin/message/send", { touser, agentid: config.agentId, ...message });
    // A partly invalid send still succeeds and lists who was skipped, lowercased (wecom.md 4).
    const invalid = String(res.invaliduser ?? "").toLowerCase().split("|");
    if (invalid.includes(touser.toLowerCase())) throw new ChannelError("rejected", `wecom user ${touser} cannot receive app messages`);
    return res;
  }

  function renderOrReject(fn: () => TemplateCard): TemplateCard {
    try {
      return fn();
    } catch (err) {
      if (err instanceof KeyTooLongError) throw new ChannelError("rejected", err.message);
      throw err;
    }
  }

  return {
    platform: "wecom",
    ready: () => client.ready(),
    // Members' app messages are capped and the excess dropped silently (wecom.md 3.3, gotcha 11); text ≤ 2048 bytes (4).
    pacing: { perRecipient: { ...WECOM_MEMBER_PACE, bucket: wecomMemberBucket }, textBytes: LIMITS.textBytes, cappedCustomerTextBytes: MSG_TEMPLATE_TEXT_BYTES },
    async sendText(to, text) {
      const res = await send(to.platformUserId, { msgtype: "text", text: render.text(text) });
      return { messageId: String(res.msgid ?? "") };
    },
    async sendCard(to, card) {
      // task_id is unique per app forever, or the send fails with 42014 (wecom.md 5.7, gotcha 9).
      const taskId = `co-${crypto.randomUUID()}`;
      const template = renderOrReject(() => render.card(card, { taskId, link }));
      const res = await send(to.platformUserId, { msgtype: "template_card", template_card: template });
      const cardRef: WecomCardRef = { task_id: taskId, userid: to.platformUserId, card_type: template.card_type, sent_at: now().toISOString() };
      if (typeof res.response_code === "string" && res.response_code) cardRef.response_code = res.response_code;
      return { messageId: String(res.msgid ?? ""), cardRef: { ...cardRef }, taskId } satisfies SentRef;
    },
    async updateCard(ref, card) {
      const r = readRef(ref.cardRef, ref.to);
      // text_notice without an action_menu cannot be updated (wecom.md 5.5).
      if (!r || !INTERACTIVE.has(r.card_type)) throw new ChannelError("gone", "this wecom card cannot be updated");
      const claim = { taskId: r.task_id, userId: r.userid, sendCode: r.response_code ?? null, sentAt: r.sent_at ? new Date(r.sent_at) : null };
      const code = await codes.claim(claim, now());
      if (!code) throw new ChannelError("gone", `wecom card ${r.task_id} has no unused response_code left`);
      const ctx = { taskId: r.task_id, link };
      const template = renderOrReject(() => (cardTypeOf(card) === "text_notice" ? render.closed(card, ctx) : render.card(card, ctx)));
      try {
        // Only this person's copy: each card ref is one send to one user (wecom.md 5.5 targeting).
        await client.post("/cgi-bin/message/update_template_card", {
          userids: [r.userid],
          agentid: config.agentId,
          response_code: code,
          template_card: template,
        });
      } catch (err) {
        if (err instanceof WecomApiError && err.errcode !== null && GONE_ERRCODES.has(err.errcode)) throw new ChannelError("gone", err.message);
        throw err; // the claimed code stays spent: never retry an update with the same code (gotcha 10)
      }
    },
    async notifyCustomer(to, card, opts) {
      // An external contact: a mass-send task its owner must confirm before the customer gets it (wecom.md 7.2).
      // The client takes the 客户联系 secret's token for it when one is set (wecom.md 7.1).
      if (to.sender !== undefined) return sendMsgTemplate(client, to, card, now);
      const key = robotKey(to.target, config.apiBase);
      if (!key) throw new ChannelError("rejected", "a wecom customer target is a group robot webhook URL, or an external contact with its owner");
      await client.robot(key, { msgtype: "markdown", markdown: render.markdown(card) });
      return { messageId: `robot:${opts.dedupeKey}` };
    },
    async resolveUser(userid) {
      const record = await directory.lookup(userid);
      if (!record.found) throw new ChannelError("rejected", `wecom user ${userid} is not in the directory`);
      return record;
    },
    miniAppLink: (_user: ChatUser, path: string) => link(path),
    // WeCom cannot look a message up by our key; undefined tells the dispatcher never to re-send blindly.
    lookupSent: async () => undefined,
  };
}

function readRef(raw: Record<string, unknown>, to: ChatUser): WecomCardRef | null {
  if (typeof raw.task_id !== "string" || !raw.task_id) return null;
  return {
    task_id: raw.task_id,
    userid: typeof raw.userid === "string" && raw.userid ? raw.userid : to.platformUserId,
    card_type: (typeof raw.card_type === "string" ? raw.card_type : "button_interaction") as WecomCardType,
    response_code: typeof raw.response_code === "string" ? raw.response_code : undefined,
    sent_at: typeof raw.sent_at === "string" ? raw.sent_at : "",
  };
}
