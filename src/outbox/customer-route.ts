import crypto from "node:crypto";
import type { CustomerContact } from "../channels/channel";
import { dingtalkRobotBucket } from "../channels/dingtalk";
import { wecomRobotBucket } from "../channels/wecom";
import type { CustomerRow } from "../db/models/customers";

export /** How a customer is reached: a WeCom external contact through its owner first, else their chat target. */
interface CustomerRoute {
  platform: string;
  contact: CustomerContact;
  /** customer_notices.channel and .target (never a credential). */
  channel: string;
  shown: string;
  /** The member who must confirm an external-contact notice. */
  owner?: string;
  robotBucket?: string;
}

function dingtalkRoute(c: CustomerRow): CustomerRoute | null {
  if (c.dingtalkWebhookUrl) {
    const bucket = dingtalkRobotBucket(c.dingtalkWebhookUrl);
    return {
      platform: "dingtalk",
      channel: "dingtalk_robot",
      shown: shownTarget(c.dingtalkWebhookUrl),
      // A custom robot takes 20 messages a minute (dingtalk.md 4), the same as WeCom's group robots.
      ...(bucket ? { robotBucket: bucket } : {}),
      contact: { platform: "dingtalk", target: c.dingtalkWebhookUrl, name: c.name, ...(c.dingtalkWebhookSecret ? { secret: c.dingtalkWebhookSecret } : {}) },
    };
  }
  if (!c.dingtalkConversationId) return null;
  return {
    platform: "dingtalk",
    channel: "dingtalk_group",
    shown: c.dingtalkConversationId,
    contact: { platform: "dingtalk", target: c.dingtalkConversationId, name: c.name },
  };
}

export function customerRoute(c: CustomerRow): CustomerRoute | null {
  if (c.wecomExternalUserId && c.wecomOwnerUserId) {
    return {
      platform: "wecom",
      channel: "wecom_external",
      shown: c.wecomExternalUserId,
      owner: c.wecomOwnerUserId,
      contact: { platform: "wecom", target: c.wecomExternalUserId, name: c.name, sender: c.wecomOwnerUserId },
    };
  }
  const dingtalk = dingtalkRoute(c);
  if (dingtalk) return dingtalk;
  if (!c.chatPlatform || !c.chatTarget) return null;
  const robot = c.chatPlatform === "wecom" ? wecomRobotBucket(c.chatTarget) : c.chatPlatform === "dingtalk" ? dingtalkRobotBucket(c.chatTarget) : null;
  return {
    platform: c.chatPlatform,
    channel: robot ? `${c.chatPlatform}_robot` : c.chatPlatform,
    shown: shownTarget(c.chatTarget),
    ...(robot ? { robotBucket: robot } : {}),
    contact: { platform: c.chatPlatform, target: c.chatTarget, name: c.name },
  };
}

/**
 * A target as an order may show it. A URL loses its query, which may hold a credential (a robot's key,
 * wecom.md 7.3); a short hash of the whole URL after "#" still tells two robots apart.
 */
function shownTarget(target: string): string {
  let url: URL | null = null;
  try {
    url = new URL(target);
  } catch {
    // not a URL: a conversation or user id
  }
  if (!url || !/^https?:$/.test(url.protocol)) return target.slice(0, 191);
  const tag = url.search ? `#${crypto.createHash("sha256").update(target).digest("hex").slice(0, 8)}` : "";
  return `${url.origin}${url.pathname}`.slice(0, 180) + tag;
}

