import { getSignature } from "@wecom/crypto";
import { CallbackError } from "../../src/channels/wecom/crypto";
import { flatEnvelope } from "../../src/channels/wecom/envelope";
import { openCallback } from "../../src/channels/wecom/inbound";
import { testWecomConfig, textXml, wecomPost } from "../helpers/wecom";

describe("the callback envelope's one-pass reader", () => {
  it("reads WeCom's flat envelope, CDATA or plain text, with whitespace between elements", () => {
    expect(flatEnvelope("<xml><ToUserName><![CDATA[ww1]]></ToUserName><AgentID><![CDATA[1000002]]></AgentID><Encrypt><![CDATA[ab+/=]]></Encrypt></xml>")).toEqual({
      ToUserName: "ww1",
      AgentID: "1000002",
      Encrypt: "ab+/=",
    });
    expect(flatEnvelope("\n<xml>\n  <ToUserName>ww1</ToUserName>\n  <Encrypt> abc </Encrypt>\n</xml>\n")).toEqual({ ToUserName: "ww1", Encrypt: "abc" });
  });

  it.each([
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
    expect(flatEnvelope(xml)).toBeNull();
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
      expect(flatEnvelope(odd)).toBeNull();
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
