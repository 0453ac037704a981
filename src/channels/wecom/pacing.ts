import crypto from "node:crypto";
import type { Pace } from "../channel";

export type { Pace };

/**
 * App messages to one member: 30/min, and 1000/hour (third-party doc; unconfirmed for self-built apps, so
 * honoured too), with the excess DROPPED SILENTLY (wecom.md 3.3, gotcha 11). A burst of 10 then 990 an
 * hour keeps every minute under 10 + 16.5 and every hour at 1000.
 */
export const WECOM_MEMBER_PACE: Pace = { burst: 10, ratePerSec: 990 / 3600 };

/**
 * A group robot takes 20 messages a minute (wecom.md 7.3). 10 at once then one per 5.7 s: any 60 s holds
 * at most 10 + 10.5, so 20 whether WeCom counts in sliding or in clock minutes.
 */
export const WECOM_ROBOT_PACE: Pace = { burst: 10, ratePerSec: 10.5 / 60 };

/** The per-member bucket; userids are case-insensitive (wecom.md conventions). */
export function wecomMemberBucket(userid: string): string {
  return `recipient:wecom:${userid.toLowerCase()}`;
}

/**
 * The bucket of the group robot a customer target names (a `…/cgi-bin/webhook/send?key=` URL), or null
 * when it names none. Keyed by a hash: the robot key is a credential and cache keys are not secret.
 */
export function wecomRobotBucket(target: string): string | null {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return null;
  }
  const key = url.searchParams.get("key");
  if (!key || !url.pathname.endsWith("/cgi-bin/webhook/send")) return null;
  return `robot:wecom:${crypto.createHash("sha256").update(key).digest("hex").slice(0, 16)}`;
}
