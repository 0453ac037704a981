/** The customer fields that say how a customer is reached in chat (the customers table). */
export interface CustomerReach {
  chatPlatform: string | null;
  chatTarget: string | null;
  wecomExternalUserId?: string | null;
  wecomOwnerUserId?: string | null;
  dingtalkConversationId?: string | null;
  dingtalkWebhookUrl?: string | null;
  dingtalkWebhookSecret?: string | null;
}

/** Which of a customer's ways in is used; its fields are what that way needs. */
export type CustomerContactChoice =
  | { via: "wecom_external"; externalUserId: string; owner: string }
  | { via: "dingtalk_webhook"; url: string; secret: string | null }
  | { via: "dingtalk_group"; conversationId: string }
  | { via: "chat"; platform: string; target: string };

/**
 * How a customer is reached, in order of preference: a WeCom external contact through its owner
 * (wecom.md 7.2), a DingTalk group's custom robot or our robot in the group (dingtalk.md 4), else
 * their chat platform and target (a WeCom group robot, the simulator). Null when nothing is set: such
 * a customer gets no notices at all.
 */
export function customerContactOf(c: CustomerReach): CustomerContactChoice | null {
  if (c.wecomExternalUserId && c.wecomOwnerUserId) return { via: "wecom_external", externalUserId: c.wecomExternalUserId, owner: c.wecomOwnerUserId };
  if (c.dingtalkWebhookUrl) return { via: "dingtalk_webhook", url: c.dingtalkWebhookUrl, secret: c.dingtalkWebhookSecret ?? null };
  if (c.dingtalkConversationId) return { via: "dingtalk_group", conversationId: c.dingtalkConversationId };
  if (c.chatPlatform && c.chatTarget) return { via: "chat", platform: c.chatPlatform, target: c.chatTarget };
  return null;
}
