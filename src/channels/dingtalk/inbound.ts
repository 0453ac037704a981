import crypto from "node:crypto";
import type { DingtalkConfig } from "../../config";

/** What a Stream CALLBACK frame means to us, before the button key is looked up (stream.ts). */
export type ParsedFrame =
  | { kind: "text"; key: string; from: string; text: string; conversationId: string | null; group: boolean }
  | { kind: "tap"; key: string; from: string; outTrackId: string; actionId: string | null; params: Record<string, unknown> }
  | { kind: "ignored"; why: string };

type Obj = Record<string, unknown>;

/** inbound_events.event_key is 191 characters; longer keys keep their head and a hash. */
const MAX_EVENT_KEY = 191;

const str = (v: unknown): string => (typeof v === "string" ? v : typeof v === "number" ? String(v) : "");
const obj = (v: unknown): Obj => (v && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : {});

/** A JSON string or an object (frame data, card content): either shape is accepted, anything else is {}. */
export function jsonOf(v: unknown): Obj {
  if (typeof v !== "string") return obj(v);
  try {
    return obj(JSON.parse(v));
  } catch {
    return {};
  }
}

/** A robot message (dingtalk.md 2) → a text event from the member, or why it is ignored. */
export function parseRobotMessage(config: DingtalkConfig, data: Obj, frameId: string): ParsedFrame {
  const robotCode = str(data.robotCode);
  if (robotCode && robotCode !== config.robotCode) return { kind: "ignored", why: "for another robot" };
  const corp = str(data.chatbotCorpId) || str(data.senderCorpId);
  if (corp && corp !== config.corpId) return { kind: "ignored", why: "from another corp" };
  const from = str(data.senderStaffId);
  // No staffId: someone outside the corp (an external group member); they are not our users.
  if (!from) return { kind: "ignored", why: "sender has no staffId" };
  const type = str(data.msgtype);
  if (type !== "text") return { kind: "ignored", why: `message type ${type || "unknown"}` };
  const text = str(obj(data.text).content).trim();
  const msgId = str(data.msgId);
  return {
    kind: "text",
    key: clip(msgId ? `msg:${msgId}` : `frame:${frameId}`),
    from,
    text,
    conversationId: str(data.conversationId) || null,
    group: str(data.conversationType) === "2",
  };
}

/** A card action (dingtalk.md 5): who tapped which button of which card. */
export function parseCardCallback(config: DingtalkConfig, data: Obj): ParsedFrame {
  const corp = str(data.corpId);
  if (corp && corp !== config.corpId) return { kind: "ignored", why: "from another corp" };
  const outTrackId = str(data.outTrackId);
  const from = str(data.userId) || str(data.staffId);
  if (!outTrackId || !from) return { kind: "ignored", why: "card callback without outTrackId or userId" };
  // content is a JSON string holding cardPrivateData; some payloads put it at the top (unconfirmed).
  const content = jsonOf(data.content ?? data.value);
  const privateData = obj(content.cardPrivateData ?? data.cardPrivateData);
  const actionIds = Array.isArray(privateData.actionIds) ? privateData.actionIds.map(str).filter(Boolean) : [];
  const params = obj(privateData.params);
  const actionId = actionIds[0] ?? null;
  const which = str(params.key) || actionId || "";
  return { kind: "tap", key: clip(`card:${outTrackId}:${from}:${which}`), from, outTrackId, actionId, params };
}

function clip(key: string): string {
  if (key.length <= MAX_EVENT_KEY) return key;
  const digest = crypto.createHash("sha256").update(key).digest("base64url");
  return `${key.slice(0, MAX_EVENT_KEY - digest.length - 1)}:${digest}`;
}
