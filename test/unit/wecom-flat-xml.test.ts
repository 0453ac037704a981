import { getSignature } from "@wecom/crypto";
import { XMLParser } from "fast-xml-parser";
import { CallbackError } from "../../src/channels/wecom/crypto";
import { readFlatXml } from "../../src/channels/wecom/flat-xml";
import { openCallback } from "../../src/channels/wecom/inbound";
import { testWecomConfig, textXml, wecomPost } from "../helpers/wecom";

describe("the one-pass reader of flat WeCom XML", () => {
  it("reads WeCom's flat envelope, CDATA or plain text, with whitespace between elements", () => {
    expect(readFlatXml("<xml><ToUserName><![CDATA[ww1]]></ToUserName><AgentID><![CDATA[1000002]]></AgentID><Encrypt><![CDATA[ab+/=]]></Encrypt></xml>")).toEqual({
      ToUserName: "ww1",
      AgentID: "1000002",
      Encrypt: "ab+/=",
    });
    expect(readFlatXml("\n<xml>\n  <ToUserName>ww1</ToUserName>\n  <Encrypt> abc </Encrypt>\n</xml>\n")).toEqual({ ToUserName: "ww1", Encrypt: "abc" });
  });

  it("reads a text message with brackets and markup in its CDATA, keeping the 64-bit MsgId a string", () => {
    const m = readFlatXml(textXml("zhangsan", "[微笑] 下单 <b>a] ]] > b</b>", "9223372036854775807"));
    expect(m).toMatchObject({ FromUserName: "zhangsan", MsgType: "text", Content: "[微笑] 下单 <b>a] ]] > b</b>", MsgId: "9223372036854775807", CreateTime: "1700000000" });
  });

  it.each([
    ["text with spaces and newlines in CDATA", textXml("zhangsan", "  第一行\n 第二行  ", "1")],
    ["plain text values", "<xml><FromUserName> lisi </FromUserName><MsgType>event</MsgType><Event>enter_agent</Event><EventKey></EventKey><CreateTime>1408091189</CreateTime></xml>"],
    ["an empty CDATA", "<xml><EventKey><![CDATA[]]></EventKey><AgentID>1</AgentID></xml>"],
    ["the envelope", "<xml>\n<ToUserName><![CDATA[ww1]]></ToUserName>\n<Encrypt><![CDATA[a+b/c==]]></Encrypt>\n</xml>"],
  ])("reads %s exactly as fast-xml-parser does with our options", (_what, xml) => {
    const full = new XMLParser({ ignoreAttributes: true, parseTagValue: false, trimValues: true, processEntities: true }).parse(xml).xml;
    expect(readFlatXml(xml)).toEqual(full);
  });

  it.each([
    ["a card event's nested SelectedItems", "<xml><Event>template_card_event</Event><SelectedItems><SelectedItem><QuestionKey>q</QuestionKey></SelectedItem></SelectedItems></xml>"],
    ["a self-closing element", "<xml><EventKey/><Encrypt>a</Encrypt></xml>"],
    ["a CDATA section closed early", "<xml><Content><![CDATA[a]]>b]]></Content></xml>"],
    ["a declaration", '<?xml version="1.0"?><xml><Encrypt>a</Encrypt></xml>'],
    ["a comment", "<xml><!-- x --><Encrypt>a</Encrypt></xml>"],
    ["an entity", "<xml><Encrypt>a&amp;b</Encrypt></xml>"],
    ["a nested element", "<xml><A><B>1</B></A><Encrypt>a</Encrypt></xml>"],
    ["a repeated element", "<xml><Encrypt>a</Encrypt><Encrypt>b</Encrypt></xml>"],
    ["mismatched tags", "<xml><Encrypt>a</Encrypted></xml>"],
    ["text outside elements", "<xml>junk<Encrypt>a</Encrypt></xml>"],
    ["no xml root", "<Encrypt>a</Encrypt>"],
    ["a cut-off document", "<xml><Encrypt><![CDATA[abc"],
  ])("hands %s to the full parser (null)", (_what, xml) => {
    expect(readFlatXml(xml)).toBeNull();
  });

  describe("through openCallback", () => {
    const config = testWecomConfig();
    const now = new Date();
    const refusal = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        return err instanceof CallbackError ? err.reason : String(err);
      }
      return "accepted";
    };

    it("still opens an envelope only the full parser reads (a declaration and a comment)", () => {
      const { query, body } = wecomPost(config, textXml("zhangsan", "你好", "42"));
      const odd = `<?xml version="1.0" encoding="UTF-8"?>\n${body.replace("<xml>", "<xml><!-- relayed -->")}`;
      expect(readFlatXml(odd)).toBeNull();
      expect(openCallback(config, query, odd, now).event).toMatchObject({ kind: "text", text: "你好", key: "msg:42" });
    });

    it("refuses a signed inner message that is cut short or never closes its root", () => {
      for (const inner of [textXml("a", "hi", "1").replace(/<\/xml>$/, ""), "<xml><FromUserName>a</FromUserName><MsgType>text</MsgType><Content>hel"]) {
        const { query, body } = wecomPost(config, inner);
        expect(refusal(() => openCallback(config, query, body, now))).toBe("malformed");
      }
    });

    it("refuses an envelope whose Encrypt is not what was signed", () => {
      const { query, body } = wecomPost(config, textXml("a", "hi", "1"));
      const swapped = body.replace(/<Encrypt><!\[CDATA\[[^\]]*\]\]><\/Encrypt>/, "<Encrypt><![CDATA[AAAA]]></Encrypt>");
      expect(refusal(() => openCallback(config, query, swapped, now))).toBe("forged");
      const resigned = { ...query, msg_signature: getSignature(config.token, query.timestamp, query.nonce, "AAAA") };
      expect(refusal(() => openCallback(config, resigned, swapped, now))).toBe("malformed");
    });
  });
});
