import type { EventEmitter } from "node:events";
import type { Context } from "koa";
import type { Logger } from "pino";
import type { SimulatorMessage } from "../../../channels/simulator";
import type { ChatItem } from "./present";

const EVENTS = ["message", "update"] as const;

export interface StreamOptions {
  events: EventEmitter;
  conversation: string;
  present: (m: SimulatorMessage) => ChatItem;
  heartbeatMs: number;
  log: Logger;
}

/**
 * Answers with a Server-Sent Events stream of one conversation's new and redrawn messages.
 * The response is written by hand (ctx.respond = false): a stream body would have Koa report every
 * closed browser tab as a "Premature close" error. Every listener and the heartbeat go away when the
 * client leaves or when the simulator itself closes (so a console tab never holds a shutdown open).
 */
export function streamConversation(ctx: Context, opts: StreamOptions): void {
  const { events, conversation, present, log } = opts;
  const res = ctx.res;
  let closed = false;

  const write = (chunk: string) => {
    if (!closed && !res.destroyed) res.write(chunk);
  };
  const heartbeat = setInterval(() => write(": ping\n\n"), opts.heartbeatMs);
  heartbeat.unref();
  const forward = (event: (typeof EVENTS)[number]) => (m: SimulatorMessage) => {
    if (m.conversation !== conversation) return;
    // A listener that throws would fail the simulator's own send, so a bad card stays here.
    try {
      write(`event: ${event}\ndata: ${JSON.stringify(present(m))}\n\n`);
    } catch (err) {
      log.error({ err, conversation, messageId: m.id }, "dev console could not stream a message");
    }
  };
  const handlers = { message: forward("message"), update: forward("update") };
  const onRemoved = (name: string | symbol, fn: unknown) => {
    if (EVENTS.some((e) => e === name && handlers[e] === fn)) close();
  };

  function close() {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    events.off("removeListener", onRemoved);
    for (const e of EVENTS) events.off(e, handlers[e]);
    if (!res.writableEnded) res.end();
  }

  for (const e of EVENTS) events.on(e, handlers[e]);
  events.on("removeListener", onRemoved);

  res.once("close", close);
  res.on("error", close);

  ctx.req.socket.setTimeout(0);
  ctx.req.socket.setNoDelay(true);
  // ctx.set writes through to res, so headers set earlier (X-Request-Id) go out with these.
  ctx.set("Content-Type", "text/event-stream; charset=utf-8");
  ctx.set("Cache-Control", "no-cache, no-transform");
  ctx.set("X-Accel-Buffering", "no");
  ctx.status = 200;
  ctx.respond = false;
  res.writeHead(200);
  // Something to flush at once, so the client sees the headers and knows it is subscribed.
  write("retry: 3000\n: connected\n\n");
}
