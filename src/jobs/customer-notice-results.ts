import { Op } from "sequelize";
import type { Logger } from "pino";
import type { Db } from "../db/sequelize";
import { customerNoticeModel, type CustomerNoticeRow } from "../db/models/customers";
import type { GroupMsgSend } from "../channels/wecom";
import { localeOf } from "../domain/i18n";
import { ownerNudgeText } from "../channels/wecom/external-contacts";
import { lowerIn } from "../services/support/text-match";
import type { Job } from "./runner";

/** Notices asked about per run; the oldest first, the rest wait ten minutes. */
const BATCH = 200;
/** When the owner has not confirmed by then, they are reminded once (wecom.md 7.2: nothing goes out before). */
export const NUDGE_AFTER_MS = 4 * 3600 * 1000;
/**
 * Ours: a task still unconfirmed after this long is given up on and shown as expired. WeCom keeps it, and
 * an owner who taps it later still sends it — the next poll does not look again, so the order may then
 * understate; we prefer that to polling every old task for ever.
 */
export const EXPIRE_AFTER_MS = 7 * 24 * 3600 * 1000;

export interface CustomerNoticeResultsDeps {
  db: Db;
  log: Logger;
  now: () => Date;
  /** get_groupmsg_send_result for one task, every page (channels/wecom/group-msg-result.ts). */
  sendResult(msgid: string, sender: string): Promise<GroupMsgSend[]>;
}

export type CustomerNoticeResultsSummary = {
  checked: number;
  sent: number;
  failed: number;
  expired: number;
  nudged: number;
  waiting: number;
  /** WeCom could not answer for some; they are asked again next run. */
  errors: number;
};

const FAILED: Record<Exclude<GroupMsgSend["status"], "sent" | "unsent">, string> = {
  not_friend: "wecom did not send it: the customer is no longer the owner's contact",
  over_limit: "wecom did not send it: the customer already received a mass message within wecom's cap",
};

/**
 * Customer notices that went out as WeCom mass-send tasks wait for their owner's tap (state awaiting_owner).
 * This asks WeCom how each task fared and records it on the notice, shown on the order: sent, failed (with
 * why) or, after EXPIRE_AFTER_MS, expired; an owner who has not tapped after NUDGE_AFTER_MS is reminded
 * once in chat, through the outbox like every message.
 */
export async function pollCustomerNotices(deps: CustomerNoticeResultsDeps): Promise<CustomerNoticeResultsSummary> {
  const summary: CustomerNoticeResultsSummary = { checked: 0, sent: 0, failed: 0, expired: 0, nudged: 0, waiting: 0, errors: 0 };
  const Notice = customerNoticeModel(deps.db.sequelize);
  const pending = await Notice.findAll({
    where: { channel: "wecom_external", state: "awaiting_owner", msgid: { [Op.ne]: null } },
    order: [["acceptedAt", "ASC"], ["id", "ASC"]],
    limit: BATCH,
  });
  // The notices of one digest share their task: WeCom is asked about it once per run.
  const results = new Map<string, Promise<GroupMsgSend[]>>();
  const resultOf = (msgid: string, sender: string) => {
    const key = `${msgid}\u0000${sender}`;
    if (!results.has(key)) results.set(key, deps.sendResult(msgid, sender));
    return results.get(key)!;
  };
  for (const notice of pending) {
    summary.checked += 1;
    const task = await taskOf(deps, notice);
    const sender = task?.sender ?? null;
    let result: GroupMsgSend | undefined;
    try {
      result = sender ? (await resultOf(notice.msgid!, sender)).find((r) => r.externalUserId === notice.target) : undefined;
    } catch (err) {
      summary.errors += 1;
      deps.log.warn({ err, noticeId: notice.id }, "customer notice result not available, will ask again");
      continue;
    }
    const outcome = await settle(deps, notice, result, task);
    summary[outcome] += 1;
  }
  return summary;
}

async function settle(
  deps: CustomerNoticeResultsDeps,
  notice: CustomerNoticeRow,
  result: GroupMsgSend | undefined,
  task: Task | null,
): Promise<"sent" | "failed" | "expired" | "nudged" | "waiting"> {
  if (result?.status === "sent") {
    await notice.update({ state: "sent", error: null });
    return "sent";
  }
  if (result && result.status !== "unsent") {
    await notice.update({ state: "failed", error: FAILED[result.status] });
    return "failed";
  }
  const waited = deps.now().getTime() - (notice.acceptedAt ?? notice.createdAt).getTime();
  if (waited >= EXPIRE_AFTER_MS) {
    await notice.update({ state: "expired", error: `the owner did not confirm the wecom mass-send task within ${EXPIRE_AFTER_MS / 3600_000} hours` });
    return "expired";
  }
  if (waited >= NUDGE_AFTER_MS && task && (await nudge(deps, notice, task))) return "nudged";
  return "waiting";
}

/** A mass-send task: the member who owns it, and the outbox row that created it. */
interface Task {
  sender: string;
  headKey: string;
}

/**
 * The task a notice went out in: kept on the outbox row that created it (its platformRef). A notice carried
 * in another's digest has a row that points to that one (digestOf).
 */
async function taskOf(deps: CustomerNoticeResultsDeps, notice: CustomerNoticeRow): Promise<Task | null> {
  const Outbox = deps.db.models.Outbox;
  const attributes = ["id", "dedupeKey", "platformRef"] as const;
  let row = await Outbox.findOne({ where: { dedupeKey: notice.dedupeKey }, attributes: [...attributes] });
  const digestOf = (row?.platformRef as { digestOf?: unknown } | null | undefined)?.digestOf;
  if (typeof digestOf === "number") row = await Outbox.findByPk(digestOf, { attributes: [...attributes] });
  const ref = row?.platformRef as { cardRef?: { sender?: unknown } } | null | undefined;
  return row && typeof ref?.cardRef?.sender === "string" ? { sender: ref.cardRef.sender, headKey: row.dedupeKey } : null;
}

/**
 * One reminder per task, ever, naming every notice it carries: keyed by the row that created the task, so
 * the other notices of a digest find it written, and the outbox dedupe key makes a second one a no-op.
 * True when written now.
 */
async function nudge(deps: CustomerNoticeResultsDeps, notice: CustomerNoticeRow, task: Task): Promise<boolean> {
  const m = deps.db.models;
  const dedupeKey = `chat.text:${task.headKey}:owner:nudge`;
  if (await m.Outbox.findOne({ where: { dedupeKey }, attributes: ["id"] })) return false;
  // userids are case-insensitive (wecom.md conventions); an owner we do not know cannot be told.
  const owner = await m.User.findOne({ where: { [Op.and]: [{ platform: "wecom", active: true }, lowerIn("platform_user_id", [task.sender])] } });
  if (!owner) return false;
  const together = await customerNoticeModel(deps.db.sequelize).findAll({
    where: { channel: notice.channel, target: notice.target, msgid: notice.msgid },
    order: [["id", "ASC"]],
  });
  const orders = await m.Order.findAll({ where: { id: { [Op.in]: together.map((n) => n.orderId) } }, attributes: ["id", "orderNo", "customerId"] });
  const orderNo = new Map(orders.map((o) => [o.id, o.orderNo]));
  const customer = orders[0] ? await m.Customer.findByPk(orders[0].customerId, { attributes: ["id", "name"] }) : null;
  const at = deps.now();
  const text = ownerNudgeText(localeOf(owner.locale), {
    customerName: customer?.name ?? "",
    notices: together.map((n) => ({ kind: n.kind, orderNo: orderNo.get(n.orderId) ?? "" })),
  });
  await m.Outbox.bulkCreate([{ topic: "chat.text", dedupeKey, payload: { userId: owner.id, text }, nextAttemptAt: at, createdAt: at }], { ignoreDuplicates: true });
  return true;
}

/** The job: every 10 minutes by default (WECOM_NOTICE_POLL_CRON). */
export function customerNoticeResultsJob(schedule: string | null, deps: CustomerNoticeResultsDeps): Job<null> {
  return { name: "wecom-customer-notices", schedule, run: () => pollCustomerNotices(deps) };
}
