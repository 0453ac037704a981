import { errorReply, stockShortText } from "../../src/bot/error-replies";
import { say } from "../../src/bot/messages";
import { replyDedupeKey } from "../../src/bot/replies";
import { DomainError } from "../../src/domain/errors";

describe("bot replies", () => {
  const event = (key: string) => ({ kind: "open" as const, key, platform: "wecom" as const, from: "u1" });

  it("keys each reply by platform, event key and position", () => {
    expect(replyDedupeKey(event("msg-1"), 0)).toBe("reply:wecom:msg-1:0");
    expect(replyDedupeKey(event("msg-1"), 2)).toBe("reply:wecom:msg-1:2");
  });

  it("hashes an event key too long for the outbox column, the same way every time", () => {
    const long = "k".repeat(400);
    const key = replyDedupeKey(event(long), 1);
    expect(key.length).toBeLessThanOrEqual(191);
    expect(key).toBe(replyDedupeKey(event(long), 1));
    expect(key).not.toBe(replyDedupeKey(event(`${long}x`), 1));
  });

  it("turns each refusal into a polite text in the reader's language", () => {
    const text = (code: DomainError["code"], locale: "zh-CN" | "en" = "zh-CN") =>
      (errorReply(new DomainError(code, "x"), locale) as { text: string }).text;
    expect(text("not_an_approver")).toBe("您不是该审批步骤的审批人，操作未生效");
    expect(text("forbidden", "en")).toBe("You are not allowed to do that: nothing was changed");
    expect(text("conflict")).toBe("订单已被修改，请重新查看");
    expect(text("rate_limited")).toContain("rate_limited");
  });

  it("lists every short sku with what is available", () => {
    const err = new DomainError("insufficient_stock", "short", {
      items: [
        { sku: "A-1", requested: 5, available: 2 },
        { sku: "B-2", requested: 1, available: 0 },
      ],
    });
    expect(stockShortText(err, "zh-CN")).toBe("库存不足，订单未提交：A-1（需要 5，可用 2）、B-2（需要 1，可用 0）");
    expect(stockShortText(err, "en")).toContain("A-1 (5 needed, 2 available), B-2");
  });

  it("leaves an unknown placeholder visible rather than dropping it", () => {
    expect(say("zh-CN", "orderNotFound", {})).toBe("没有找到订单 {orderNo}，请核对订单号");
  });
});
