import type { Socket } from "node:net";
import { emptyCallbackAck, loadDWClient, type DWClientDownStream } from "./sdk";
import type { Logger } from "pino";
import WebSocketImpl from "ws";
import type WebSocket from "ws";
import type { InboundPipeline } from "../../bot/inbound";
import type { Cache } from "../../cache/cache";
import { DINGTALK_DEFAULT_STREAM_BASE, type DingtalkConfig } from "../../config-dingtalk";
import type { InboundEvent } from "../channel";
import { newTraceId } from "../../trace";
import { jsonOf, parseCardCallback, parseRobotMessage } from "./inbound";
import { decodeKey, tappedKey } from "./keys";

/** dingtalk-stream's topic constants (dingtalk.md 1). */
export const TOPIC_ROBOT = "/v1.0/im/bot/messages/get";
export const TOPIC_CARD = "/v1.0/card/instances/callback";
const GATEWAY_PATH = "/v1.0/gateway/connections/open";

export interface DingtalkStreamDeps {
  inbound: InboundPipeline;
  cache: Cache;
  log: Logger;
  /** Reconnect backoff: base doubles per failed attempt up to max; reset once registered. */
  backoff?: { baseMs: number; maxMs: number };
  /** Ping interval; a socket without a pong by the next ping is dropped (SDK keepAlive leaks timers). */
  keepAliveMs?: number;
  fetch?: typeof fetch;
  /**
   * Runs before a member's event is received: creates someone new from the directory (refresh.ts).
   * Returns undefined when there is nothing to wait for (a known member): the frame goes straight on.
   */
  firstContact?: (userid: string) => Promise<void> | undefined;
}

export type StreamState = "idle" | "connecting" | "open" | "registered" | "waiting" | "closed";

export interface DingtalkStream {
  start(): void;
  close(): Promise<void>;
  state(): StreamState;
}

/**
 * The Stream connection (dingtalk.md 1), through the official SDK. The SDK's own reconnect retries
 * every second forever and swallows errors, so it is off and this owns the loop: exponential backoff,
 * each state change logged, and close() that never reconnects. A CALLBACK frame is acknowledged only
 * after inbound.receive() has persisted it: a crash before the ack means DingTalk delivers it again.
 */
export function createDingtalkStream(config: DingtalkConfig, deps: DingtalkStreamDeps): DingtalkStream {
  const { log } = deps;
  const backoff = deps.backoff ?? { baseMs: 1000, maxMs: 60_000 };
  const keepAliveMs = deps.keepAliveMs ?? 8000;
  let state: StreamState = "idle";
  let failures = 0;
  let stopped = false;
  let retry: NodeJS.Timeout | null = null;
  let pinger: NodeJS.Timeout | null = null;
  const setState = (next: StreamState, fields: Record<string, unknown> = {}) => {
    if (next !== state) log.info({ platform: "dingtalk", from: state, to: next, ...fields }, "stream state");
    state = next;
  };

  class StreamClient extends loadDWClient() {
    /**
     * The gateway URL is a constant inside the SDK (dingtalk.md 1). With the official base the SDK's
     * own call is used; DINGTALK_STREAM_BASE (a proxy) gets the same request sent by us.
     */
    override async getEndpoint(): Promise<this> {
      if (config.streamBase === DINGTALK_DEFAULT_STREAM_BASE) return super.getEndpoint();
      const res = await (deps.fetch ?? fetch)(`${config.streamBase}${GATEWAY_PATH}`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ clientId: config.clientId, clientSecret: config.clientSecret, ua: this.config.ua, subscriptions: this.config.subscriptions }),
        signal: AbortSignal.timeout(10_000),
      });
      const got = jsonOf(await res.text());
      if (!res.ok || typeof got.endpoint !== "string" || typeof got.ticket !== "string") throw new Error(`gateway open answered HTTP ${res.status}`);
      Reflect.set(this, "dw_url", `${got.endpoint}?ticket=${encodeURIComponent(got.ticket)}`);
      return this;
    }

    /**
     * The SDK's own _connect/disconnect print to the console ("connect success", "ERROR", ...), which
     * would break the JSON log stream; these open and close the socket the same way, with our logger.
     * Frames still go through the SDK's onDownStream (protocol, acks, listeners).
     */
    override _connect(): Promise<void> {
      return new Promise((resolve, reject) => {
        const url = Reflect.get(this, "dw_url") as string;
        let ws: WebSocket;
        try {
          ws = new WebSocketImpl(url, { rejectUnauthorized: true });
        } catch (err) {
          return reject(err as Error);
        }
        Reflect.set(this, "socket", ws);
        Reflect.set(this, "userDisconnect", false);
        ws.on("open", () => {
          this.connected = true;
          resolve();
        });
        ws.on("message", (data: WebSocket.RawData) => this.onDownStream(data.toString()));
        ws.on("close", () => {
          this.connected = false;
          this.registered = false;
        });
        ws.on("error", (err: Error) => {
          log.warn({ platform: "dingtalk", err: err.message }, "stream socket error");
          ws.terminate();
          reject(err);
        });
      });
    }

    override disconnect(): void {
      Reflect.set(this, "userDisconnect", true);
      socket()?.close();
    }

    override onSystem(downstream: DWClientDownStream): void {
      super.onSystem(downstream);
      const topic = downstream.headers.topic;
      if (topic === "REGISTERED") {
        failures = 0;
        setState("registered");
      } else if (topic === "disconnect") {
        // The gateway is going away (a deploy on its side): drop now and reconnect elsewhere.
        log.info({ platform: "dingtalk" }, "stream gateway asked us to reconnect");
        socket()?.terminate();
      }
    }
  }

  const client = new StreamClient({ clientId: config.clientId, clientSecret: config.clientSecret, ua: "chatorder", keepAlive: false });
  client.config.autoReconnect = false;
  const socket = () => Reflect.get(client, "socket") as WebSocket | undefined;

  client.registerCallbackListener(TOPIC_ROBOT, onFrame);
  client.registerCallbackListener(TOPIC_CARD, onFrame);

  /**
   * One CALLBACK frame: parsed, its sender's first contact, inbound.receive() (which persists it), then
   * the ack. A robot text from a known member runs synchronously up to receive(): no promise or closure
   * of ours per frame but the one continuation that acks, so the frame path stays cheap (bench:dingtalk).
   */
  function onFrame(frame: DWClientDownStream): void {
    const messageId = frame.headers?.messageId;
    if (!messageId) return;
    let received: Promise<unknown> | null;
    try {
      received = frame.headers.topic === TOPIC_CARD ? receiveCard(frame) : receiveText(frame);
    } catch (err) {
      return notAccepted(frame, err);
    }
    if (!received) return ack(messageId); // ignored: acknowledged so it is not delivered again
    // No per-frame "seen" mark in the cache: a re-delivered frame maps to the same event key, and
    // inbound.receive() de-duplicates that (cache SET NX, then the inbound_events unique key), so a
    // repeat is acknowledged again without effect. The mark cost two cache round trips per frame.
    received.then(
      () => ack(messageId),
      (err: unknown) => notAccepted(frame, err),
    );
  }

  function notAccepted(frame: DWClientDownStream, err: unknown) {
    // Not acknowledged: DingTalk delivers it again for about 60 s (dingtalk.md 1).
    log.error({ err, platform: "dingtalk", topic: frame.headers.topic, messageId: frame.headers.messageId }, "stream frame not accepted, left for re-delivery");
  }

  /** Runs first contact (when the member is not known yet), then receive(); null when the frame is ignored. */
  function receive(event: InboundEvent | null): Promise<unknown> | null {
    if (!event) return null;
    const first = deps.firstContact?.(event.from);
    return first ? first.then(() => deps.inbound.receive(event)) : deps.inbound.receive(event);
  }

  function ignored(frame: DWClientDownStream, why: string): null {
    log.debug({ platform: "dingtalk", topic: frame.headers.topic, why }, "stream frame ignored");
    return null;
  }

  function receiveText(frame: DWClientDownStream): Promise<unknown> | null {
    const parsed = parseRobotMessage(config, jsonOf(frame.data), frame.headers.messageId);
    if (parsed.kind !== "text") return ignored(frame, parsed.kind === "ignored" ? parsed.why : parsed.kind);
    // Stamped here, fresh per frame (a Stream frame has no request to take a trace id from).
    return receive({ kind: "text", key: parsed.key, platform: "dingtalk", from: parsed.from, text: parsed.text, traceId: newTraceId() });
  }

  async function receiveCard(frame: DWClientDownStream): Promise<unknown> {
    const parsed = parseCardCallback(config, jsonOf(frame.data));
    if (parsed.kind !== "tap") return ignored(frame, parsed.kind === "ignored" ? parsed.why : parsed.kind);
    const key = await tappedKey(deps.cache, parsed);
    const tapped = key ? decodeKey(key) : null;
    if (!tapped) {
      log.info({ platform: "dingtalk", outTrackId: parsed.outTrackId, actionId: parsed.actionId }, "card action is not ours, ignored");
      return null;
    }
    const values = { ...tapped.values };
    // A chosen option rides along only when the template sends it by name (e.g. a reject reason).
    for (const [name, value] of Object.entries(parsed.params)) if (name !== "key" && typeof value === "string" && !(name in values)) values[name] = value;
    return receive({ kind: "card_action", key: parsed.key, platform: "dingtalk", from: parsed.from, action: tapped.action, values, traceId: newTraceId() });
  }

  // The acks of one round (every frame one group commit settled) leave in one socket write instead of
  // a write each: the socket is corked at the first ack and uncorked once this turn of the event loop
  // is over. ws has no public cork; its socket is the `_socket` field, read the way the SDK's fields are.
  let corked: Socket | null = null;
  function cork(ws: WebSocket) {
    const raw = Reflect.get(ws, "_socket") as Socket | undefined;
    if (!raw || raw === corked || typeof raw.cork !== "function") return;
    raw.cork();
    corked = raw;
    setImmediate(() => {
      if (corked === raw) corked = null;
      raw.uncork();
    });
  }

  function ack(messageId: string) {
    const ws = socket();
    if (!ws) return;
    try {
      cork(ws);
      // What client.socketCallBackResponse(messageId, {}) sends, without its two objects and stringify calls.
      ws.send(emptyCallbackAck(messageId));
    } catch (err) {
      log.warn({ err, platform: "dingtalk", messageId }, "stream ack not sent");
    }
  }

  async function connectOnce() {
    retry = null;
    if (stopped) return;
    setState("connecting");
    try {
      await client.getEndpoint();
      if (stopped) return;
      await client._connect();
    } catch (err) {
      return scheduleRetry((err as Error)?.message ?? String(err));
    }
    if (stopped) return void client.disconnect();
    setState("open");
    watch(socket());
  }

  function watch(ws: WebSocket | undefined) {
    if (!ws) return;
    let alive = true;
    ws.on("pong", () => (alive = true));
    if (pinger) clearInterval(pinger);
    pinger = setInterval(() => {
      if (!alive) return void ws.terminate();
      alive = false;
      ws.ping();
    }, keepAliveMs);
    pinger.unref();
    ws.once("close", (code: number) => {
      if (pinger) clearInterval(pinger);
      pinger = null;
      if (stopped) return setState("closed");
      scheduleRetry(`socket closed (${code})`);
    });
  }

  function scheduleRetry(reason: string) {
    if (stopped || retry) return;
    failures += 1;
    const delay = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.min(failures - 1, 20));
    const jittered = Math.round(delay * (0.8 + Math.random() * 0.4));
    const level = failures >= 3 ? "warn" : "info";
    log[level]({ platform: "dingtalk", reason, attempt: failures, retryInMs: jittered }, "stream dropped, reconnecting");
    setState("waiting");
    retry = setTimeout(() => void connectOnce(), jittered);
  }

  return {
    start() {
      stopped = false;
      void connectOnce();
    },
    state: () => state,
    async close() {
      stopped = true;
      if (retry) clearTimeout(retry);
      retry = null;
      if (pinger) clearInterval(pinger);
      const ws = socket();
      if (ws && ws.readyState !== ws.CLOSED) {
        const closed = new Promise<void>((resolve) => {
          ws.once("close", () => resolve());
          setTimeout(resolve, 2000).unref();
        });
        client.disconnect();
        await closed;
      }
      setState("closed");
    },
  };
}
