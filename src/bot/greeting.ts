import { Op, type WhereOptions } from "sequelize";
import { helpCard } from "../domain/cards";
import { hasRole } from "../domain/roles";
import { businessDay } from "../domain/time";
import { say } from "./messages";
import { cardReply, textReply, type Reply } from "./replies";
import { me, type Turn } from "./turn";

const GREETED_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * Opening the app or the chat: a greeting with what waits for this person, and the help card — once
 * per Shanghai calendar day, since platforms send "enter chat" every time the window is opened.
 */
export async function answerOpen(turn: Turn): Promise<Reply[]> {
  const cache = turn.deps.serviceDeps.cache;
  const key = `bot:greeted:${me(turn)}:${businessDay(turn.deps.now())}`;
  if (await cache.get(key)) return [];
  // Marked only after the replies are committed, so a crash in between greets again instead of never.
  turn.afterReplies.push(() => cache.set(key, "1", GREETED_TTL_MS));
  const lines = [say(turn.locale, "greeting", { name: turn.user.name }), ...(await todos(turn))];
  return [textReply(lines.join(turn.locale === "en" ? " " : "")), cardReply(helpCard({ locale: turn.locale, roles: turn.actor.roles }))];
}

async function todos(turn: Turn): Promise<string[]> {
  const m = turn.deps.serviceDeps.db.models;
  const out: string[] = [];
  const approvals = await pendingApprovals(turn);
  if (approvals > 0) out.push(say(turn.locale, "todoApprovals", { n: approvals }));
  if (hasRole(turn.actor, "sales", "manager", "director", "admin")) {
    const drafts = await m.Order.count({ where: { salesRepId: me(turn), status: "draft" } });
    if (drafts > 0) out.push(say(turn.locale, "todoDrafts", { n: drafts }));
  }
  return out;
}

/** Pending steps naming this person; approver ids are stored comma-separated, hence the four patterns. */
function pendingApprovals(turn: Turn): Promise<number> {
  const id = String(me(turn));
  // The model types the column as number[] (its getter's view); the query compares the stored text.
  const where: WhereOptions = {
    status: "pending",
    [Op.or]: [
      { approverIds: id },
      { approverIds: { [Op.like]: `${id},%` } },
      { approverIds: { [Op.like]: `%,${id}` } },
      { approverIds: { [Op.like]: `%,${id},%` } },
    ],
  };
  return turn.deps.serviceDeps.db.models.ApprovalStep.count({ where });
}
