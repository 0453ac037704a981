import crypto from "node:crypto";
import path from "node:path";
import Router from "@koa/router";
import nunjucks from "nunjucks";
import type { Logger } from "pino";
import type { InboundPipeline } from "../../../bot/inbound";
import type { SimulatorChannel, SimulatorMessage } from "../../../channels/simulator";
import type { Db } from "../../../db/sequelize";
import type { Card } from "../../../domain/card";
import { DomainError } from "../../../domain/errors";
import { jsonBody } from "../../middleware/json-body";
import { parse } from "../../parse";
import { groupByRole, presentCustomer, presentMessage, presentUser } from "./present";
import { ActionBody, MessagesQuery, OpenBody, OutageBody, SendBody, StreamQuery } from "./schemas";
import { serveStatic } from "./static";
import { streamConversation } from "./stream";

export interface DevConsoleDeps {
  simulator: SimulatorChannel;
  inbound: InboundPipeline;
  db: Db;
  renderCard: (card: Card, linkBase: string) => string;
  publicUrl: string;
  log: Logger;
  /** miniapp/views: holds dev-chat.njk. */
  viewsDir: string;
  now: () => Date;
  /** miniapp/static: holds dev-chat.js and dev-chat.css; defaults to ../static next to viewsDir. */
  staticDir?: string;
  /** Comment line sent on idle streams so proxies keep them open; 15 s unless a test wants it sooner. */
  heartbeatMs?: number;
}

const BODY_LIMIT_KB = 16;
const HEARTBEAT_MS = 15_000;

/** Typed into the input by the quick chips under it. */
const CHIPS = [
  { label: "帮助", text: "帮助" },
  { label: "下单", text: "下单" },
  { label: "我的订单", text: "我的订单" },
  { label: "示例订单", text: "下单 华东医疗 N95口罩 20箱 单价30，丁腈手套x50" },
];

// Card HTML is inserted as markup (autoescaped on the server); the policy is a second fence around it.
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
].join("; ");

/**
 * /dev: the chat console for the simulator channel. Act as any seeded user, see their conversation
 * live, send text and tap card buttons as WeCom or DingTalk would deliver them. Mount it only when the
 * simulator channel is on: it speaks for anyone, without credentials.
 */
export function devConsoleRoutes(deps: DevConsoleDeps): Router {
  const router = new Router({ prefix: "/dev" });
  const log = deps.log.child({ module: "dev-console" });
  const m = deps.db.models;
  const views = new nunjucks.Environment(new nunjucks.FileSystemLoader(deps.viewsDir), {
    autoescape: true,
    trimBlocks: true,
    lstripBlocks: true,
  });
  const staticDir = deps.staticDir ?? path.resolve(deps.viewsDir, "../static");
  const assetVersion = deps.now().getTime().toString(36);

  const renderCard = (msg: SimulatorMessage): string | null => {
    if (!msg.card) return null;
    try {
      return deps.renderCard(msg.card, deps.publicUrl);
    } catch (err) {
      log.error({ err, messageId: msg.id, kind: msg.card.kind }, "card could not be rendered");
      return null;
    }
  };
  const present = (msg: SimulatorMessage) => presentMessage(msg, renderCard);

  async function loadPeople() {
    const [users, customers] = await Promise.all([
      m.User.findAll({ where: { platform: "simulator", active: true }, order: [["id", "ASC"]] }),
      m.Customer.findAll({ where: { chatPlatform: "simulator", active: true }, order: [["code", "ASC"]] }),
    ]);
    return { users: users.map(presentUser), customers: customers.filter((c) => c.chatTarget).map(presentCustomer) };
  }

  /** The person the console speaks for must be a simulator user, or the bot would meet a stranger. */
  async function requireUser(platformUserId: string): Promise<string> {
    const user = await m.User.findOne({ where: { platform: "simulator", platformUserId, active: true } });
    if (!user) {
      throw new DomainError("validation_failed", `body.user: unknown simulator user ${platformUserId}`, { path: "body.user" });
    }
    return user.platformUserId;
  }

  const eventKey = () => `sim:${crypto.randomUUID()}`;

  router.use(jsonBody(BODY_LIMIT_KB));

  router.get("/chat", async (ctx) => {
    const { users, customers } = await loadPeople();
    ctx.set("Content-Security-Policy", CSP);
    ctx.set("Cache-Control", "no-store");
    ctx.type = "text/html; charset=utf-8";
    ctx.body = views.render("dev-chat.njk", {
      title: "ChatOrder 模拟器",
      groups: groupByRole(users),
      customers,
      chips: CHIPS,
      assetVersion,
    });
  });

  router.get("/static/:file", async (ctx) => {
    await serveStatic(ctx, staticDir, ctx.params.file);
  });

  router.get("/chat/people", async (ctx) => {
    ctx.body = await loadPeople();
  });

  router.get("/chat/messages", async (ctx) => {
    const q = parse(MessagesQuery, ctx.query, "query");
    const history = await deps.simulator.history(q.conversation, q.limit);
    ctx.body = { items: history.map(present) };
  });

  router.get("/chat/stream", (ctx) => {
    const { conversation } = parse(StreamQuery, ctx.query, "query");
    streamConversation(ctx, {
      events: deps.simulator.events,
      conversation,
      present,
      heartbeatMs: deps.heartbeatMs ?? HEARTBEAT_MS,
      log,
    });
  });

  router.post("/chat/send", async (ctx) => {
    const body = parse(SendBody, ctx.request.body, "body");
    const from = await requireUser(body.user);
    await deps.simulator.recordInbound(from, body.text);
    await deps.inbound.receive({ kind: "text", key: eventKey(), platform: "simulator", from, text: body.text });
    ctx.status = 202;
    ctx.body = { accepted: true };
  });

  router.post("/chat/action", async (ctx) => {
    const body = parse(ActionBody, ctx.request.body, "body");
    const from = await requireUser(body.user);
    await deps.inbound.receive({ kind: "card_action", key: eventKey(), platform: "simulator", from, action: body.action, values: body.values });
    ctx.status = 202;
    ctx.body = { accepted: true };
  });

  router.post("/chat/open", async (ctx) => {
    const body = parse(OpenBody, ctx.request.body, "body");
    const from = await requireUser(body.user);
    await deps.inbound.receive({ kind: "open", key: eventKey(), platform: "simulator", from });
    ctx.status = 202;
    ctx.body = { accepted: true };
  });

  router.post("/chat/outage", async (ctx) => {
    const { count } = parse(OutageBody, ctx.request.body, "body");
    deps.simulator.failNext(count);
    log.info({ count }, "simulated outage set");
    ctx.body = { failNext: count };
  });

  return router;
}
