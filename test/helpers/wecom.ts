import crypto from "node:crypto";
import { encrypt, getSignature } from "@wecom/crypto";
import { loadConfig, type WecomConfig } from "../../src/config";

/** A WeCom app of our own: a random 43-character EncodingAESKey, so nothing depends on a real tenant. */
export function testWecomConfig(overrides: Record<string, string> = {}): WecomConfig {
  const aesKey = crypto.randomBytes(32).toString("base64").replace(/[^A-Za-z0-9]/g, "").padEnd(43, "A").slice(0, 43);
  const config = loadConfig({
    WECOM_CORP_ID: "ww0123456789abcdef",
    WECOM_AGENT_ID: "1000002",
    WECOM_SECRET: "test-secret",
    WECOM_TOKEN: "TestToken123",
    WECOM_AES_KEY: aesKey,
    WECOM_API_BASE: "https://wecom.test",
    ...overrides,
  }).wecom;
  if (!config) throw new Error("test WeCom config did not load");
  return config;
}

/** The settings that enable `config` in createTestApp, with the API at `apiBase` (a local fake). */
export function wecomEnv(config: WecomConfig, apiBase = config.apiBase): Record<string, string> {
  return {
    WECOM_CORP_ID: config.corpId,
    WECOM_AGENT_ID: String(config.agentId),
    WECOM_SECRET: config.secret,
    WECOM_TOKEN: config.token,
    WECOM_AES_KEY: config.aesKey,
    WECOM_API_BASE: apiBase,
  };
}

export interface SignedCallback {
  query: Record<string, string>;
  body: string;
}

/** Encrypts and signs an inner message the way WeCom posts it (wecom.md 1.5), with knobs to get it wrong. */
export function wecomPost(
  config: WecomConfig,
  inner: string,
  opts: { timestamp?: number; nonce?: string; receiveId?: string; token?: string; outerTo?: string } = {},
): SignedCallback {
  const timestamp = String(opts.timestamp ?? Math.floor(Date.now() / 1000));
  const nonce = opts.nonce ?? String(crypto.randomInt(1e9));
  const enc = encrypt(config.aesKey, inner, opts.receiveId ?? config.corpId);
  const sig = getSignature(opts.token ?? config.token, timestamp, nonce, enc);
  const body = `<xml><ToUserName><![CDATA[${opts.outerTo ?? config.corpId}]]></ToUserName><AgentID><![CDATA[${config.agentId}]]></AgentID><Encrypt><![CDATA[${enc}]]></Encrypt></xml>`;
  return { query: { msg_signature: sig, timestamp, nonce }, body };
}

/** The GET handshake query for `echo` (wecom.md 1.2). */
export function wecomHandshake(config: WecomConfig, echo: string, timestamp = Math.floor(Date.now() / 1000)): Record<string, string> {
  const nonce = String(crypto.randomInt(1e9));
  const echostr = encrypt(config.aesKey, echo, config.corpId);
  return { msg_signature: getSignature(config.token, String(timestamp), nonce, echostr), timestamp: String(timestamp), nonce, echostr };
}

export const textXml = (from: string, content: string, msgId: string, createTime = 1700000000, agentId = 1000002) =>
  `<xml><ToUserName><![CDATA[ww0123456789abcdef]]></ToUserName><FromUserName><![CDATA[${from}]]></FromUserName><CreateTime>${createTime}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[${content}]]></Content><MsgId>${msgId}</MsgId><AgentID>${agentId}</AgentID></xml>`;

export function cardEventXml(o: { from: string; key: string; taskId: string; responseCode?: string; createTime?: number; selected?: string }): string {
  return `<xml><ToUserName><![CDATA[ww0123456789abcdef]]></ToUserName><FromUserName><![CDATA[${o.from}]]></FromUserName><CreateTime>${o.createTime ?? 1700000001}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[template_card_event]]></Event><EventKey><![CDATA[${o.key}]]></EventKey><TaskId><![CDATA[${o.taskId}]]></TaskId><CardType><![CDATA[button_interaction]]></CardType><ResponseCode><![CDATA[${o.responseCode ?? "RC-1"}]]></ResponseCode><AgentID>1000002</AgentID>${o.selected ?? ""}</xml>`;
}
