import { customerContactOf } from "../../src/domain/customer-contact";

/** Which of a customer's ways in a notice takes: the one rule shared by writing notices and delivering them. */
describe("customerContactOf", () => {
  const none = { chatPlatform: null, chatTarget: null };
  const robot = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k";

  it("prefers a WeCom external contact with its owner, then a DingTalk robot, a DingTalk group, then the chat target", () => {
    const all = {
      chatPlatform: "wecom",
      chatTarget: robot,
      wecomExternalUserId: "wmA",
      wecomOwnerUserId: "zhangsan",
      dingtalkWebhookUrl: "https://oapi.dingtalk.com/robot/send?access_token=t",
      dingtalkWebhookSecret: "SEC",
      dingtalkConversationId: "cidX",
    };
    expect(customerContactOf(all)).toEqual({ via: "wecom_external", externalUserId: "wmA", owner: "zhangsan" });
    expect(customerContactOf({ ...all, wecomOwnerUserId: null })).toEqual({ via: "dingtalk_webhook", url: all.dingtalkWebhookUrl, secret: "SEC" });
    expect(customerContactOf({ ...all, wecomOwnerUserId: null, dingtalkWebhookUrl: null })).toEqual({ via: "dingtalk_group", conversationId: "cidX" });
    expect(customerContactOf({ chatPlatform: "wecom", chatTarget: robot })).toEqual({ via: "chat", platform: "wecom", target: robot });
  });

  it("finds no way to reach a customer with nothing set, or half of a pair", () => {
    expect(customerContactOf(none)).toBeNull();
    expect(customerContactOf({ ...none, wecomExternalUserId: "wmA" })).toBeNull();
    expect(customerContactOf({ chatPlatform: "wecom", chatTarget: null })).toBeNull();
    expect(customerContactOf({ chatPlatform: null, chatTarget: robot })).toBeNull();
  });
});
