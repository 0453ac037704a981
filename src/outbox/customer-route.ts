import crypto from "node:crypto";
import type { CustomerContact } from "../channels/channel";
import { dingtalkRobotBucket } from "../channels/dingtalk";
import { wecomRobotBucket } from "../channels/wecom";
import type { CustomerRow } from "../db/models/customers";
import { customerContactOf } from "../domain/customer-contact";

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

/** The route of every customer notice, whatever it says; which contact wins is domain/customer-contact.ts. */
export function customerRoute(c: CustomerRow): CustomerRoute | null {
  const choice = customerContactOf(c);
  if (!choice) return null;
  switch (choice.via) {
    case "wecom_external":
      return {
        platform: "wecom",
        channel: "wecom_external",
        shown: choice.externalUserId,
        owner: choice.owner,
        contact: { platform: "wecom", target: choice.externalUserId, name: c.name, sender: choice.owner },
      };
    case "dingtalk_webhook": {
      const bucket = dingtalkRobotBucket(choice.url);
      return {
        platform: "dingtalk",
        channel: "dingtalk_robot",
        shown: shownTarget(choice.url),
        // A custom robot takes 20 messages a minute (dingtalk.md 4), the same as WeCom's group robots.
        ...(bucket ? { robotBucket: bucket } : {}),
        contact: { platform: "dingtalk", target: choice.url, name: c.name, ...(choice.secret ? { secret: choice.secret } : {}) },
      };
    }
    case "dingtalk_group":
      return {
        platform: "dingtalk",
        channel: "dingtalk_group",
        shown: choice.conversationId,
        contact: { platform: "dingtalk", target: choice.conversationId, name: c.name },
      };
    case "chat": {
      const { platform, target } = choice;
      const robot = platform === "wecom" ? wecomRobotBucket(target) : platform === "dingtalk" ? dingtalkRobotBucket(target) : null;
      return {
        platform,
        channel: robot ? `${platform}_robot` : platform,
        shown: shownTarget(target),
        ...(robot ? { robotBucket: robot } : {}),
        contact: { platform, target, name: c.name },
      };
    }
  }
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
