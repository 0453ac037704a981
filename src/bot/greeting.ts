import { Op, type WhereOptions } from "sequelize";
import type { Card } from "../domain/card";
import { helpCard } from "../domain/cards";
import { hasRole } from "../domain/roles";
import { businessDay } from "../domain/time";
import { say } from "./messages";
import { cardReply, type Reply } from "./replies";
import { me, type Turn } from "./turn";

const GREETED_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * Opening the app or the chat: a greeting card with what waits for this person and what to type — once
 * per Shanghai calendar day, since platforms send "enter chat" every time the window is opened.
 */
export async function answerOpen(turn: Turn): Promise<Reply[]> {
  const cache = turn.deps.serviceDeps.cache;
  const key = `bot:greeted:${me(turn)}:${businessDay(turn.deps.now())}`;
  if (await cache.get(key)) return [];
  // Marked only after the replies are committed, so a crash in between greets again instead of never.
  turn.afterReplies.push(() => cache.set(key, "1", GREETED_TTL_MS));
  return [cardReply(greetingCard(turn, await todos(turn)))];
}

interface Todo {
  text: string;
  /** Where the mini-app shows them. */
  path: string;
}

/**
 * One card: the greeting as its title, what waits for this person on top (and its page behind the
 * card's link), then the help card's examples.
 */
function greetingCard(turn: Turn, waiting: Todo[]): Card {
  const { locale } = turn;
  const help = helpCard({ locale, roles: turn.actor.roles });
  const card: Card = { ...help, title: say(locale, "greeting", { name: turn.user.name }) };
  if (waiting.length === 0) return card;
  return {
    ...card,
    banner: { text: waiting.map((w) => w.text).join(locale === "en" ? " " : ""), tone: "warning" },
    link: { label: say(locale, "todoOpen"), path: waiting[0].path },
  };
}

async function todos(turn: Turn): Promise<Todo[]> {
  const m = turn.deps.serviceDeps.db.models;
  const out: Todo[] = [];
  const approvals = await pendingApprovals(turn);
  if (approvals > 0) out.push({ text: say(turn.locale, "todoApprovals", { n: approvals }), path: "/m/approvals" });
  if (hasRole(turn.actor, "sales", "manager", "director", "admin")) {
    const drafts = await m.Order.count({ where: { salesRepId: me(turn), status: "draft" } });
    if (drafts > 0) out.push({ text: say(turn.locale, "todoDrafts", { n: drafts }), path: "/m/orders?status=draft" });
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
