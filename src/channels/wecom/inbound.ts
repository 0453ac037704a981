import crypto from "node:crypto";
import { XMLParser } from "fast-xml-parser";
import type { WecomConfig } from "../../config";
import type { InboundEvent } from "../channel";
import { CallbackError, decryptFor, verifySignature } from "./crypto";
import { readFlatXml } from "./flat-xml";
import { decodeButtonKey, decodeSelection } from "./keys";

/** The query WeCom signs (wecom.md 1.2, 1.5); Koa's ctx.query has already URL-decoded it. */
export type CallbackQuery = Record<string, string | string[] | undefined>;

/** A card click's one-shot update credential, to be kept for updateCard (wecom.md 5.4). */
export interface ClickCode {
  taskId: string;
  userId: string;
  code: string;
}

export interface OpenedCallback {
  /** null: a message or event we do not act on (answered politely, not stored). */
  event: InboundEvent | null;
  clickCode: ClickCode | null;
  /** Why the event was not mapped, for the log. */
  ignored?: string;
}

type Xml = Record<string, unknown>;

// Every value stays a string: MsgId exceeds 2^53 (wecom.md 2.1, gotcha 4). CDATA and plain text both
// come out as text (vector A2 has no CDATA, vector B has it: wecom.md 2). Built once: a parser holds only
// these options (we never add entities to it), and building one per callback cost as much as a parse.
const XML = new XMLParser({ ignoreAttributes: true, parseTagValue: false, trimValues: true, processEntities: true });

/** The key column is 191 characters; longer composite keys keep their readable head and a hash. */
const MAX_EVENT_KEY = 191;

/** GET handshake (wecom.md 1.2): the decrypted echostr, to be answered as plain text exactly. */
export function verifyUrl(config: WecomConfig, query: CallbackQuery, now: Date): string {
  const echostr = one(query, "echostr");
  const signed = checkQuery(config, query, echostr, now);
  return decryptFor(config.aesKey, signed, config.corpId);
}

/** POST (wecom.md 1.5): verify the envelope, decrypt, parse, and map to an InboundEvent. */
export function openCallback(config: WecomConfig, query: CallbackQuery, body: string, now: Date): OpenedCallback {
  // The envelope is not validated as XML: only its Encrypt is used, and that is signed — a cut or
  // altered one fails the signature check (or leaves CDATA unclosed, which the parser refuses).
  const envelope: Xml = readFlatXml(body) ?? parseXml(body, "envelope");
  const encrypted = text(envelope.Encrypt);
  if (!encrypted) throw new CallbackError("malformed", "envelope has no Encrypt");
  checkQuery(config, query, encrypted, now);
  const outerTo = text(envelope.ToUserName);
  if (outerTo && outerTo !== config.corpId) throw new CallbackError("wrong_receiver", "envelope is for another corp");
  const plain = decryptFor(config.aesKey, encrypted, config.corpId);
  const message: Xml = readFlatXml(plain) ?? parseXml(plain, "message");
  return toEvent(config, message, now);
}

function checkQuery(config: WecomConfig, query: CallbackQuery, encrypted: string, now: Date): string {
  const timestamp = one(query, "timestamp");
  const nonce = one(query, "nonce");
  const sig = one(query, "msg_signature");
  if (!/^\d{1,12}$/.test(timestamp)) throw new CallbackError("malformed", "timestamp is not a number");
  if (!verifySignature(config.token, timestamp, nonce, encrypted, sig)) throw new CallbackError("forged", "signature does not match");
  // WeCom's samples keep no replay window (wecom.md 2.3, unconfirmed guidance); we refuse old captures.
  if (Math.abs(now.getTime() / 1000 - Number(timestamp)) > config.callbackWindowSec) {
    throw new CallbackError("stale", "timestamp is outside the replay window");
  }
  return encrypted;
}

function one(query: CallbackQuery, name: string): string {
  const v = query[name];
  if (typeof v !== "string" || v === "") throw new CallbackError("malformed", `query parameter ${name} is missing`);
  return v;
}

function parseXml(xml: string, what: string): Xml {
  // No DTDs: entity definitions are how XML bombs expand, and WeCom never sends one. Text inside CDATA
  // (a chat message quoting HTML) is content, not a DTD.
  if (/<!DOCTYPE|<!ENTITY/i.test(xml.replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, ""))) {
    throw new CallbackError("malformed", `${what} has a DTD`);
  }
  // No separate validation pass (it cost as much as the parse): a document cut short loses its closing
  // root tag, and the parser refuses an unclosed CDATA; the envelope's Encrypt is signed and the message
  // inside it was encrypted with our key, so neither can be altered on the way.
  if (!/<\/xml>\s*$/.test(xml)) throw new CallbackError("malformed", `${what} is not well-formed XML`);
  let root: unknown;
  try {
    root = (XML.parse(xml) as Xml).xml;
  } catch {
    throw new CallbackError("malformed", `${what} is not well-formed XML`);
  }
  if (!root || typeof root !== "object") throw new CallbackError("malformed", `${what} has no <xml> root`);
  return root as Xml;
}

function text(v: unknown): string {
  if (typeof v === "string") return v;
  if (typeof v === "number") return String(v);
  return "";
}

/** One element parses as an object, several as an array (wecom.md 2.2): always an array. */
function list(v: unknown): unknown[] {
  if (v === undefined || v === null || v === "") return [];
  return Array.isArray(v) ? v : [v];
}

function toEvent(config: WecomConfig, m: Xml, now: Date): OpenedCallback {
  const from = text(m.FromUserName);
  const type = text(m.MsgType);
  const agent = text(m.AgentID);
  if (!from || !type) throw new CallbackError("malformed", "message has no FromUserName or MsgType");
  if (agent && agent !== String(config.agentId)) return ignored(`for agent ${agent}`);
  const base = { platform: "wecom" as const, from };
  if (type === "text") {
    return mapped({ ...base, kind: "text", key: messageKey(m), text: text(m.Content) });
  }
  if (type !== "event") return ignored(`message type ${type}`);
  const event = text(m.Event);
  if (event === "enter_agent") return mapped({ ...base, kind: "open", key: eventKey(m, [event]) });
  if (event !== "template_card_event") return ignored(`event ${event}`);
  return cardEvent(m, base, now);
}

/** `now` is when the tap's ResponseCode was issued, as far as we know: its lifetime counts from it. */
function cardEvent(m: Xml, base: { platform: "wecom"; from: string }, now: Date): OpenedCallback {
  const taskId = text(m.TaskId);
  const responseCode = text(m.ResponseCode);
  const clickCode = taskId && responseCode ? { taskId, userId: base.from, code: responseCode } : null;
  const tapped = decodeButtonKey(text(m.EventKey));
  if (!tapped) return { event: null, clickCode, ignored: "card key is not ours" };
  const values = { ...tapped.values };
  // A selection counts only for its own action: a reject reason must not ride along on "approve".
  for (const item of list((m.SelectedItems as Xml | undefined)?.SelectedItem)) {
    const questionKey = text((item as Xml).QuestionKey);
    const [optionId] = list(((item as Xml).OptionIds as Xml | undefined)?.OptionId).map(text);
    const chosen = optionId !== undefined ? decodeSelection(questionKey, optionId) : null;
    if (chosen && chosen.action === tapped.action) values[chosen.name] = chosen.value;
  }
  const key = eventKey(m, ["template_card_event", taskId, text(m.EventKey)]);
  // The code rides in the event, which is stored before the callback is answered: it is recorded in
  // card_refs when the event is handled, or handled again after a crash (card-codes.ts).
  const cardCode = clickCode ? { taskId, code: clickCode.code, at: now.toISOString() } : undefined;
  return { event: { ...base, kind: "card_action", key, action: tapped.action, values, ...(cardCode ? { cardCode } : {}) }, clickCode };
}

/** Messages de-duplicate by MsgId (wecom.md 2.3); a message without one falls back to the event rule. */
function messageKey(m: Xml): string {
  const id = text(m.MsgId);
  return id ? `msg:${id}` : eventKey(m, [text(m.MsgType)]);
}

/** Events de-duplicate by FromUserName + CreateTime (+ TaskId + EventKey for card events), wecom.md 2.3. */
function eventKey(m: Xml, parts: string[]): string {
  const key = ["ev", text(m.FromUserName), text(m.CreateTime), ...parts.filter(Boolean)].join(":");
  if (key.length <= MAX_EVENT_KEY) return key;
  const digest = crypto.createHash("sha256").update(key).digest("base64url");
  return `${key.slice(0, MAX_EVENT_KEY - digest.length - 1)}:${digest}`;
}

const mapped = (event: InboundEvent): OpenedCallback => ({ event, clickCode: null });
const ignored = (why: string): OpenedCallback => ({ event: null, clickCode: null, ignored: why });
