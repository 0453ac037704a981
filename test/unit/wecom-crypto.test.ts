import { decrypt, getSignature } from "@wecom/crypto";
import { loadConfig, type WecomConfig } from "../../src/config";
import { CallbackError, decryptFor, encryptFor, verifySignature } from "../../src/channels/wecom/crypto";
import { openCallback, verifyUrl } from "../../src/channels/wecom/inbound";
import { encodeButtonKey, encodeQuestionKey } from "../../src/channels/wecom/keys";
import { cardEventXml, testWecomConfig, textXml, wecomHandshake, wecomPost } from "../helpers/wecom";

// Vector A: the WeCom team's sample sbzhu/weworkapi_python callback/Sample.py (wecom.md 1.7).
const A = {
  token: "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo",
  aesKey: "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt",
  corpId: "ww1436e0e65a779aee",
  get: {
    timestamp: "1476416373",
    nonce: "47744683",
    echostr: "fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA==",
    signature: "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb",
  },
  post: {
    timestamp: "1476422779",
    nonce: "1597212914",
    encrypt:
      "Kl7kjoSf6DMD1zh7rtrHjFaDapSCkaOnwu3bqLc5tAybhhMl9pFeK8NslNPVdMwmBQTNoW4mY7AIjeLvEl3NyeTkAgGzBhzTtRLNshw2AEew+kkYcD+Fq72Kt00fT0WnN87hGrW8SqGc+NcT3mu87Ha3dz1pSDi6GaUA6A0sqfde0VJPQbZ9U+3JWcoD4Z5jaU0y9GSh010wsHF8KZD24YhmZH4ch4Ka7ilEbjbfvhKkNL65HHL0J6EYJIZUC2pFrdkJ7MhmEbU2qARR4iQHE7wy24qy0cRX3Mfp6iELcDNfSsPGjUQVDGxQDCWjayJOpcwocugux082f49HKYg84EpHSGXAyh+/oxwaWbvL6aSDPOYuPDGOCI8jmnKiypE+",
    signature: "0c3914025cb4b4d68103f6bfc8db550f79dcf48e",
    plain:
      "<xml><ToUserName>ww1436e0e65a779aee</ToUserName><FromUserName>ChenJiaShun</FromUserName><CreateTime>1476422779</CreateTime><MsgType>text</MsgType><Content>你好</Content><MsgId>1456453720</MsgId><AgentID>1000002</AgentID></xml>",
  },
};

// Vector B: the worked example of the official doc 加解密方案说明 (wecom.md 1.7).
const B = {
  token: "QDG6eK",
  aesKey: "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
  corpId: "wx5823bf96d3bd56c7",
  post: {
    signature: "477715d11cdb4164915debcba66cb864d751f3e6",
    timestamp: "1409659813",
    nonce: "1372623149",
    encrypt:
      "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==",
  },
  get: {
    signature: "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3",
    timestamp: "1409659589",
    nonce: "263014780",
    echostr: "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==",
  },
};

const configFor = (v: { token: string; aesKey: string; corpId: string }, agentId: number): WecomConfig =>
  loadConfig({ WECOM_CORP_ID: v.corpId, WECOM_AGENT_ID: String(agentId), WECOM_SECRET: "s", WECOM_TOKEN: v.token, WECOM_AES_KEY: v.aesKey }).wecom!;

const at = (timestamp: string) => new Date(Number(timestamp) * 1000 + 30_000);

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof CallbackError) return err.reason;
    throw err;
  }
  throw new Error("expected a refusal");
}

describe("WeCom callback crypto: published test vectors", () => {
  it("signs and decrypts vector A's GET handshake to the text to echo", () => {
    expect(getSignature(A.token, A.get.timestamp, A.get.nonce, A.get.echostr)).toBe(A.get.signature);
    expect(verifySignature(A.token, A.get.timestamp, A.get.nonce, A.get.echostr, A.get.signature)).toBe(true);
    expect(decryptFor(A.aesKey, A.get.echostr, A.corpId)).toBe("1288432023552776189");
    const query = { msg_signature: A.get.signature, timestamp: A.get.timestamp, nonce: A.get.nonce, echostr: A.get.echostr };
    expect(verifyUrl(configFor(A, 1000002), query, at(A.get.timestamp))).toBe("1288432023552776189");
  });

  it("decrypts vector A's POST (pad 22, which Node's own padding rejects) and re-encrypts it byte for byte", () => {
    expect(getSignature(A.token, A.post.timestamp, A.post.nonce, A.post.encrypt)).toBe(A.post.signature);
    expect(decryptFor(A.aesKey, A.post.encrypt, A.corpId)).toBe(A.post.plain);
    expect(decrypt(A.aesKey, A.post.encrypt).random.toString("ascii")).toBe("694ce5a83ae07fe3");
    expect(encryptFor(A.aesKey, A.post.plain, A.corpId, Buffer.from("694ce5a83ae07fe3", "ascii"))).toBe(A.post.encrypt);
  });

  it("maps vector A's POST to a text event keyed by its MsgId", () => {
    const body = `<xml><ToUserName><![CDATA[${A.corpId}]]></ToUserName><AgentID><![CDATA[1000002]]></AgentID><Encrypt><![CDATA[${A.post.encrypt}]]></Encrypt></xml>`;
    const query = { msg_signature: A.post.signature, timestamp: A.post.timestamp, nonce: A.post.nonce };
    const opened = openCallback(configFor(A, 1000002), query, body, at(A.post.timestamp));
    expect(opened.event).toEqual({ kind: "text", key: "msg:1456453720", platform: "wecom", from: "ChenJiaShun", text: "你好" });
  });

  it("verifies and decrypts vector B (CDATA inside, AgentID 218, a MsgId beyond 2^53 kept exact)", () => {
    expect(getSignature(B.token, B.post.timestamp, B.post.nonce, B.post.encrypt)).toBe(B.post.signature);
    const body = `<xml><ToUserName><![CDATA[${B.corpId}]]></ToUserName><Encrypt><![CDATA[${B.post.encrypt}]]></Encrypt><AgentID><![CDATA[218]]></AgentID></xml>`;
    const query = { msg_signature: B.post.signature, timestamp: B.post.timestamp, nonce: B.post.nonce };
    const opened = openCallback(configFor(B, 218), query, body, at(B.post.timestamp));
    expect(opened.event).toEqual({ kind: "text", key: "msg:4561255354251345929", platform: "wecom", from: "mycreate", text: "hello" });
    const get = { msg_signature: B.get.signature, timestamp: B.get.timestamp, nonce: B.get.nonce, echostr: B.get.echostr };
    expect(verifyUrl(configFor(B, 218), get, at(B.get.timestamp))).toBe("1616140317555161061");
  });

  it("accepts an upper-case signature but refuses vector A under another token or corp id", () => {
    expect(verifySignature(A.token, A.get.timestamp, A.get.nonce, A.get.echostr, A.get.signature.toUpperCase())).toBe(true);
    expect(verifySignature("other", A.get.timestamp, A.get.nonce, A.get.echostr, A.get.signature)).toBe(false);
    expect(refusal(() => decryptFor(A.aesKey, A.get.echostr, "ww_someone_else"))).toBe("wrong_receiver");
  });
});

describe("WeCom callbacks with our own key", () => {
  const config = testWecomConfig();
  const now = new Date();
  const open = (inner: string, opts: Parameters<typeof wecomPost>[2] = {}) => {
    const { query, body } = wecomPost(config, inner, opts);
    return openCallback(config, query, body, now);
  };

  it("round-trips the handshake and a text message", () => {
    expect(verifyUrl(config, wecomHandshake(config, "echo-123"), now)).toBe("echo-123");
    const opened = open(textXml("zhangsan", "下单 <b>&amp; \"quotes\"", "9223372036854775807"));
    expect(opened.event).toEqual({ kind: "text", key: "msg:9223372036854775807", platform: "wecom", from: "zhangsan", text: '下单 <b>&amp; "quotes"' });
  });

  it("reads a message that quotes a DTD as text", () => {
    const opened = open(textXml("zhangsan", "<!DOCTYPE html><!ENTITY x>", "77"));
    expect(opened.event).toMatchObject({ kind: "text", text: "<!DOCTYPE html><!ENTITY x>" });
  });

  it("maps enter_agent to open, keyed by sender and time", () => {
    const inner = `<xml><ToUserName><![CDATA[${config.corpId}]]></ToUserName><FromUserName><![CDATA[lisi]]></FromUserName><CreateTime>1408091189</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[enter_agent]]></Event><EventKey><![CDATA[]]></EventKey><AgentID>1000002</AgentID></xml>`;
    expect(open(inner).event).toEqual({ kind: "open", key: "ev:lisi:1408091189:enter_agent", platform: "wecom", from: "lisi" });
  });

  it("maps a card click to our action and values, with its response code kept aside", () => {
    const key = encodeButtonKey(1, "approval.reject", { orderId: "12", stepId: "3" });
    const opened = open(cardEventXml({ from: "lisi", key, taskId: "co-1", responseCode: "RC-9" }));
    expect(opened.event).toMatchObject({ kind: "card_action", from: "lisi", action: "approval.reject", values: { orderId: "12", stepId: "3" } });
    expect(opened.event?.key).toBe(`ev:lisi:1700000001:template_card_event:co-1:${key}`);
    expect(opened.clickCode).toEqual({ taskId: "co-1", userId: "lisi", code: "RC-9" });
  });

  it("adds a selection to its own action only, whether one or several items arrive", () => {
    const qk = encodeQuestionKey("approval.reject", "reason", ["价格不合适", "信用超限"]);
    const other = encodeQuestionKey("order.pick", "x", ["a"]);
    const one = `<SelectedItems><SelectedItem><QuestionKey><![CDATA[${qk}]]></QuestionKey><OptionIds><OptionId><![CDATA[1]]></OptionId></OptionIds></SelectedItem></SelectedItems>`;
    const two = `<SelectedItems><SelectedItem><QuestionKey><![CDATA[${other}]]></QuestionKey><OptionIds><OptionId>0</OptionId></OptionIds></SelectedItem><SelectedItem><QuestionKey><![CDATA[${qk}]]></QuestionKey><OptionIds><OptionId>0</OptionId><OptionId>1</OptionId></OptionIds></SelectedItem></SelectedItems>`;
    const reject = encodeButtonKey(1, "approval.reject", { stepId: "3" });
    expect(open(cardEventXml({ from: "a", key: reject, taskId: "t", selected: one })).event).toMatchObject({ values: { stepId: "3", reason: "信用超限" } });
    expect(open(cardEventXml({ from: "a", key: reject, taskId: "t", selected: two })).event).toMatchObject({ values: { stepId: "3", reason: "价格不合适" } });
    const approve = encodeButtonKey(0, "approval.approve", { stepId: "3" });
    expect(open(cardEventXml({ from: "a", key: approve, taskId: "t", selected: one })).event).toMatchObject({ values: { stepId: "3" } });
    expect((open(cardEventXml({ from: "a", key: approve, taskId: "t", selected: one })).event as { values: object }).values).not.toHaveProperty("reason");
  });

  it("keeps long composite event keys within the 191-character column", () => {
    const key = encodeButtonKey(0, "order.new_for_customer", { customerCode: "C".repeat(400) });
    const event = open(cardEventXml({ from: "wangwu", key, taskId: "co-x" })).event!;
    expect(event.key.length).toBeLessThanOrEqual(191);
    expect(event.key.startsWith("ev:wangwu:1700000001:template_card_event:co-x:")).toBe(true);
  });

  it.each([
    ["an image message", `<xml><FromUserName>a</FromUserName><CreateTime>1</CreateTime><MsgType>image</MsgType><MsgId>5</MsgId></xml>`],
    ["a menu click", `<xml><FromUserName>a</FromUserName><CreateTime>1</CreateTime><MsgType>event</MsgType><Event>click</Event><EventKey>k</EventKey></xml>`],
    ["a card key that is not ours", cardEventXml({ from: "a", key: "approve", taskId: "t" })],
    ["the inert key of a closed card", cardEventXml({ from: "a", key: "-", taskId: "t" })],
    ["another app's message", textXml("a", "hi", "1", 1700000000, 1000999)],
  ])("ignores %s politely", (_what, inner) => {
    expect(open(inner).event).toBeNull();
  });

  it.each([
    ["a forged signature", () => open(textXml("a", "hi", "1"), { token: "NotOurToken" }), "forged"],
    ["a stale timestamp", () => open(textXml("a", "hi", "1"), { timestamp: Math.floor(now.getTime() / 1000) - 301 }), "stale"],
    ["a timestamp from the future", () => open(textXml("a", "hi", "1"), { timestamp: Math.floor(now.getTime() / 1000) + 301 }), "stale"],
    ["another corp's ciphertext", () => open(textXml("a", "hi", "1"), { receiveId: "wwsomeoneelse" }), "wrong_receiver"],
    ["another corp's envelope", () => open(textXml("a", "hi", "1"), { outerTo: "wwsomeoneelse" }), "wrong_receiver"],
    ["truncated inner XML", () => open(textXml("a", "hi", "1").slice(0, 60)), "malformed"],
    ["an inner DTD", () => open(`<!DOCTYPE xml [<!ENTITY a "b">]>${textXml("a", "&a;", "1")}`), "malformed"],
    ["a message without a sender", () => open("<xml><MsgType>text</MsgType></xml>"), "malformed"],
  ])("refuses %s", (_what, run, reason) => {
    expect(refusal(run)).toBe(reason);
  });

  it("refuses envelopes that are not XML, lack Encrypt or query values, or carry bad base64", () => {
    const { query, body } = wecomPost(config, textXml("a", "hi", "1"));
    expect(refusal(() => openCallback(config, query, body.slice(0, body.length - 10), now))).toBe("malformed");
    expect(refusal(() => openCallback(config, query, "<xml><ToUserName>x</ToUserName></xml>", now))).toBe("malformed");
    expect(refusal(() => openCallback(config, { ...query, nonce: "" }, body, now))).toBe("malformed");
    expect(refusal(() => openCallback(config, { ...query, timestamp: "soon" }, body, now))).toBe("malformed");
    expect(refusal(() => openCallback(config, { ...query, nonce: ["1", "2"] }, body, now))).toBe("malformed");
    const notBase64 = "%%%not-base64%%%";
    const signed = { ...query, msg_signature: getSignature(config.token, query.timestamp, query.nonce, notBase64) };
    expect(refusal(() => openCallback(config, signed, `<xml><Encrypt>${notBase64}</Encrypt></xml>`, now))).toBe("malformed");
    const shortBlock = "AAAA";
    const signedShort = { ...query, msg_signature: getSignature(config.token, query.timestamp, query.nonce, shortBlock) };
    expect(refusal(() => openCallback(config, signedShort, `<xml><Encrypt>${shortBlock}</Encrypt></xml>`, now))).toBe("malformed");
  });
});
