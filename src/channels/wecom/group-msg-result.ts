import type { WecomClient } from "./client";

export const GROUPMSG_RESULT_PATH = "/cgi-bin/externalcontact/get_groupmsg_send_result";
/** The largest page WeCom hands out (its documented limit is 1000; 500 is its default). */
const PAGE_LIMIT = 1000;
/** A task for one customer fits in one page; this only stops a cursor that never ends. */
const MAX_PAGES = 20;

/**
 * How one recipient of a mass-send task fared (wecom.md 7.2 follow-ups): 0 not sent yet (the owner has not
 * confirmed), 1 sent, 2 not sent because the customer is no longer the owner's contact, 3 not sent because
 * the customer already received a mass message within WeCom's cap.
 */
export type GroupMsgStatus = "unsent" | "sent" | "not_friend" | "over_limit";

export interface GroupMsgSend {
  externalUserId: string;
  status: GroupMsgStatus;
  /** When it reached the customer (status 1). */
  sentAt: Date | null;
}

const STATUS: Record<number, GroupMsgStatus> = { 0: "unsent", 1: "sent", 2: "not_friend", 3: "over_limit" };

/**
 * Every recipient of task `msgid` as sent by member `userid`, following `next_cursor` until it is empty:
 * POST {msgid, userid, limit, cursor} → {send_list: [{external_userid, chat_id, userid, status, send_time}], next_cursor}.
 * An unknown status is read as "unsent": being asked again later is harmless, a wrong verdict is not.
 */
export async function groupMsgSendResult(client: WecomClient, msgid: string, userid: string): Promise<GroupMsgSend[]> {
  const out: GroupMsgSend[] = [];
  let cursor = "";
  for (let page = 0; page < MAX_PAGES; page++) {
    const res = await client.post(GROUPMSG_RESULT_PATH, { msgid, userid, limit: PAGE_LIMIT, ...(cursor ? { cursor } : {}) });
    for (const item of Array.isArray(res.send_list) ? (res.send_list as Array<Record<string, unknown>>) : []) {
      if (typeof item.external_userid !== "string" || !item.external_userid) continue; // a customer group's row
      const status = STATUS[Number(item.status)] ?? "unsent";
      const sendTime = Number(item.send_time);
      out.push({ externalUserId: item.external_userid, status, sentAt: status === "sent" && sendTime > 0 ? new Date(sendTime * 1000) : null });
    }
    cursor = typeof res.next_cursor === "string" ? res.next_cursor : "";
    if (!cursor) break;
  }
  return out;
}
