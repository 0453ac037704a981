import crypto from "node:crypto";
import type { AddressInfo } from "node:net";
import nock from "nock";
import { WebSocketServer, type WebSocket } from "ws";

export const TOPIC_ROBOT = "/v1.0/im/bot/messages/get";
export const TOPIC_CARD = "/v1.0/card/instances/callback";

/** What the client answered to a frame (dingtalk.md 1): code 200, the frame's messageId, data as a JSON string. */
export interface Ack {
  code: number;
  headers: { messageId: string; contentType?: string };
  message: string;
  data: string;
  at: number;
}

/**
 * DingTalk's Stream gateway, played locally (dingtalk.md 1). nock answers the SDK's
 * POST …/v1.0/gateway/connections/open with a loopback ws:// endpoint and a ticket; a real `ws` server
 * there sends SYSTEM CONNECTED/REGISTERED on connect, CALLBACK frames on demand, and records every
 * ack the client sends. `drop()` cuts every connection, as a gateway restart would.
 */
export class FakeGateway {
  readonly opens: Array<{ clientId: string; subscriptions: Array<{ type: string; topic: string }> }> = [];
  readonly acks = new Map<string, Ack>();
  readonly tickets: string[] = [];
  connections = 0;
  private server!: WebSocketServer;
  private sockets = new Set<WebSocket>();
  private sentAt = new Map<string, number>();
  private waiters: Array<() => void> = [];
  private seq = 0;

  constructor(readonly base = "https://api.dingtalk.com") {}

  get url(): string {
    return `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async start(): Promise<this> {
    this.server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise<void>((resolve) => this.server.once("listening", () => resolve()));
    this.server.on("connection", (socket, req) => {
      const ticket = new URL(req.url ?? "/", "ws://x").searchParams.get("ticket");
      if (!ticket || !this.tickets.includes(ticket)) return socket.close(4001, "bad ticket");
      this.connections += 1;
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
      socket.on("message", (raw) => this.onUp(String(raw)));
      this.system(socket, "CONNECTED");
      this.system(socket, "REGISTERED");
      this.notify();
    });
    nock(this.base)
      .persist()
      .post("/v1.0/gateway/connections/open")
      .reply(200, (_uri, body) => {
        const b = body as { clientId: string; subscriptions: Array<{ type: string; topic: string }> };
        this.opens.push({ clientId: b.clientId, subscriptions: b.subscriptions });
        const ticket = `TICKET-${++this.seq}`;
        this.tickets.push(ticket);
        return { endpoint: this.url, ticket };
      });
    return this;
  }

  /** Sends one CALLBACK frame; the same messageId again is a re-delivery. */
  callback(topic: string, data: Record<string, unknown>, messageId = `msg-${crypto.randomUUID()}`): string {
    const frame = {
      specVersion: "1.0",
      type: "CALLBACK",
      headers: { appId: "app", connectionId: "conn", contentType: "application/json", messageId, time: String(Date.now()), topic },
      data: JSON.stringify(data),
    };
    this.sentAt.set(messageId, performance.now());
    for (const s of this.sockets) s.send(JSON.stringify(frame));
    return messageId;
  }

  /** Sends a raw text frame to every client (for malformed input). */
  raw(text: string) {
    for (const s of this.sockets) s.send(text);
  }

  /** Milliseconds from sending the frame to its ack. */
  latency(messageId: string): number | null {
    const sent = this.sentAt.get(messageId);
    const ack = this.acks.get(messageId);
    return sent !== undefined && ack ? ack.at - sent : null;
  }

  async waitFor(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 20);
      });
    }
  }

  waitAck(messageId: string, timeoutMs = 5000) {
    return this.waitFor(() => this.acks.has(messageId), `ack of ${messageId}`, timeoutMs);
  }

  waitConnections(n: number, timeoutMs = 5000) {
    return this.waitFor(() => this.connections >= n && this.sockets.size > 0, `${n} connections`, timeoutMs);
  }

  /** Cuts every connection without a close handshake. */
  drop() {
    for (const s of this.sockets) s.terminate();
  }

  get open(): number {
    return this.sockets.size;
  }

  async close() {
    for (const s of this.sockets) s.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onUp(text: string) {
    const msg = JSON.parse(text) as Omit<Ack, "at">;
    if (msg.headers?.messageId) this.acks.set(msg.headers.messageId, { ...msg, at: performance.now() });
    this.notify();
  }

  private system(socket: WebSocket, topic: string) {
    const headers = { appId: "app", connectionId: "conn", contentType: "application/json", messageId: `sys-${++this.seq}`, time: String(Date.now()), topic };
    socket.send(JSON.stringify({ specVersion: "1.0", type: "SYSTEM", headers, data: "" }));
  }

  private notify() {
    for (const w of this.waiters.splice(0)) w();
  }
}

export const DT_CORP = "dingcorp0123456789";
export const DT_ROBOT = "dingrobot0123";

/** A robot text message as DingTalk sends it (dingtalk.md 2). */
export function robotText(from: string, content: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    conversationId: `cid-${from}`,
    conversationType: "1",
    chatbotCorpId: DT_CORP,
    chatbotUserId: "bot-user",
    msgId: `msgid-${crypto.randomUUID()}`,
    senderNick: from,
    senderStaffId: from,
    senderId: `$:LWCP_v1:$${from}`,
    senderCorpId: DT_CORP,
    isAdmin: false,
    createAt: Date.now(),
    robotCode: DT_ROBOT,
    msgtype: "text",
    text: { content },
    sessionWebhook: "https://oapi.dingtalk.com/robot/sendBySession?session=x",
    sessionWebhookExpiredTime: Date.now() + 3_600_000,
    ...overrides,
  };
}

/** A card action callback (dingtalk.md 5); `params` as the template sends them. */
export function cardTap(o: { outTrackId: string; userId: string; actionId: string; params?: Record<string, unknown>; contentAsObject?: boolean }) {
  const content = { cardPrivateData: { actionIds: [o.actionId], params: o.params ?? {} } };
  return { outTrackId: o.outTrackId, userId: o.userId, corpId: DT_CORP, content: o.contentAsObject ? content : JSON.stringify(content) };
}

/** The env that turns DingTalk on in createTestApp. */
export function dingtalkEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    DINGTALK_CLIENT_ID: "dingclientid",
    DINGTALK_CLIENT_SECRET: "client-secret",
    DINGTALK_ROBOT_CODE: DT_ROBOT,
    DINGTALK_CORP_ID: DT_CORP,
    DINGTALK_AGENT_ID: "3000001",
    PUBLIC_URL: "https://order.example.com",
    ...overrides,
  };
}
