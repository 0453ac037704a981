import type { Logger } from "pino";
import type { Cache } from "../../cache/cache";
import type { DingtalkConfig } from "../../config";
import type { ApiCallObserver } from "../../metrics/metrics";
import { ChannelError, type ChannelFailure } from "../channel";
// The cache-shared, single-flight token source is platform-neutral; it lives with WeCom for now.
import { createTokenSource } from "../wecom/token";

export type Json = Record<string, unknown>;

/** A ChannelError that remembers the call and DingTalk's code, for callers with special cases. */
export class DingtalkApiError extends ChannelError {
  constructor(
    failure: ChannelFailure,
    readonly path: string,
    readonly code: string | null,
    readonly status: number | null,
    message: string,
    retryAfterMs?: number,
  ) {
    super(failure, message, retryAfterMs);
    this.name = "DingtalkApiError";
  }
}

export interface DingtalkClient {
  /** New API (api.dingtalk.com/v1.0/…): token in x-acs-dingtalk-access-token (dingtalk.md 3). */
  api(method: "GET" | "POST" | "PUT", path: string, body?: unknown): Promise<Json>;
  /** Old API (oapi.dingtalk.com): token in the query string, errors as errcode (dingtalk.md 3). */
  oapi(path: string, body?: unknown, query?: Record<string, string>): Promise<Json>;
  /** A custom group robot webhook (dingtalk.md 4): the URL carries its own credential. */
  webhook(url: string, body: unknown): Promise<Json>;
  /** The JSAPI ticket for dd.config (dingtalk.md 6), cached like the token; never sent to a browser. */
  jsapiTicket(): Promise<string>;
  /** Resolves once a new-API access token is at hand (cached, or fetched now); for readiness checks. */
  ready(): Promise<void>;
}

export interface DingtalkClientDeps {
  cache: Cache;
  log: Logger;
  now: () => Date;
  fetch?: typeof fetch;
  timeoutMs?: number;
  tokenWaitMs?: number;
  /** Told of every HTTP call to DingTalk and its error code (metrics); never given the URL's query or the body. */
  onCall?: ApiCallObserver;
}

// Old-API token refusals: 40014 invalid, 42001 expired (dingtalk.md 3, unconfirmed for DingTalk), 88 and
// 40001 are reported for bad tokens too. Any errmsg naming an invalid/expired token counts as well.
const OAPI_TOKEN_CODES = new Set([40014, 42001, 40001, 88]);
// Busy and flow control on old APIs (unconfirmed codes), and 130101 "sent too fast" from a custom robot: later.
const OAPI_BUSY_CODES = new Set([-1, 90002, 90005, 90006, 90018, 130101]);
const TOKEN_WORDS = /token/i;
const INVALID_WORDS = /invalid|expired|illegal|无效|过期/i;
const THROTTLE_WORDS = /qps|throttl|ratelimit|rate limit|flowcontrol|flow control|限流|频率/i;

/** HTTP to DingTalk: configurable bases, cached tokens, one retry on a refused token, errors → ChannelError. */
export function createDingtalkClient(config: DingtalkConfig, deps: DingtalkClientDeps): DingtalkClient {
  const doFetch = deps.fetch ?? fetch;
  const timeoutMs = deps.timeoutMs ?? 10_000;
  const scope = `dingtalk:${config.corpId}:${config.clientId}`;

  function fail(failure: ChannelFailure, path: string, code: string | null, status: number | null, detail: string, retryAfterMs?: number) {
    // Path and code only: queries and headers hold tokens and webhook credentials.
    deps.log.warn({ platform: "dingtalk", path, code, status, failure }, "dingtalk call failed");
    return new DingtalkApiError(failure, path, code, status, `dingtalk ${path} failed: ${detail}`, retryAfterMs);
  }

  async function send(method: string, url: string, path: string, headers: Record<string, string>, body?: unknown) {
    if (!deps.onCall) return request(method, url, path, headers, body);
    let code = "error";
    try {
      const r = await request(method, url, path, headers, body);
      code = callCode(r);
      return r;
    } catch (err) {
      if (err instanceof DingtalkApiError) code = err.status === null ? "network" : "not_json";
      throw err;
    } finally {
      deps.onCall({ platform: "dingtalk", path, code });
    }
  }

  async function request(method: string, url: string, path: string, headers: Record<string, string>, body?: unknown) {
    let res: Response;
    try {
      res = await doFetch(url, {
        method,
        headers: { ...(body === undefined ? {} : { "Content-Type": "application/json; charset=utf-8" }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw fail("retry_later", path, null, null, `network error (${(err as Error)?.name ?? "error"})`);
    }
    const text = await res.text().catch(() => "");
    let json: Json = {};
    try {
      json = text ? (JSON.parse(text) as Json) : {};
    } catch {
      if (res.ok) throw fail("retry_later", path, null, res.status, "answer is not JSON");
    }
    return { status: res.status, json, retryAfter: retryAfterMs(res.headers.get("retry-after")) };
  }

  /** New-API answer → result, or a refusal: "token" asks the caller to renew and retry once. */
  function judgeApi(path: string, r: { status: number; json: Json; retryAfter?: number }): Json | "token" {
    if (r.status >= 200 && r.status < 300) return r.json;
    const code = typeof r.json.code === "string" ? r.json.code : null;
    const detail = `HTTP ${r.status}${code ? ` ${code}` : ""}${typeof r.json.message === "string" ? ` (${r.json.message.slice(0, 160)})` : ""}`;
    const words = `${code ?? ""} ${String(r.json.message ?? "")}`;
    if (r.status === 401 || (TOKEN_WORDS.test(words) && INVALID_WORDS.test(words))) return "token";
    if (r.status === 429 || r.status >= 500 || (r.status === 403 && THROTTLE_WORDS.test(words))) {
      throw fail("retry_later", path, code, r.status, detail, r.retryAfter ?? (r.status === 429 || r.status === 403 ? 1000 : undefined));
    }
    throw fail("rejected", path, code, r.status, detail);
  }

  function judgeOapi(path: string, r: { status: number; json: Json; retryAfter?: number }): Json | "token" {
    if (r.status === 429 || r.status >= 500) throw fail("retry_later", path, null, r.status, `HTTP ${r.status}`, r.retryAfter);
    if (r.status < 200 || r.status >= 300) throw fail("rejected", path, null, r.status, `HTTP ${r.status}`);
    const errcode = typeof r.json.errcode === "number" ? r.json.errcode : Number(r.json.errcode ?? 0);
    if (!errcode) return r.json;
    const errmsg = String(r.json.errmsg ?? "");
    if (OAPI_TOKEN_CODES.has(errcode) || (TOKEN_WORDS.test(errmsg) && INVALID_WORDS.test(errmsg))) return "token";
    const detail = `errcode ${errcode}${errmsg ? ` (${errmsg.slice(0, 160)})` : ""}`;
    if (OAPI_BUSY_CODES.has(errcode) || THROTTLE_WORDS.test(errmsg)) throw fail("retry_later", path, String(errcode), r.status, detail, 1000);
    throw fail("rejected", path, String(errcode), r.status, detail);
  }

  const common = { cache: deps.cache, now: deps.now, waitMs: deps.tokenWaitMs };
  const apiToken = createTokenSource(`${scope}:token:api`, {
    ...common,
    async fetchToken() {
      const path = "/v1.0/oauth2/accessToken";
      const r = await send("POST", `${config.apiBase}${path}`, path, {}, { appKey: config.clientId, appSecret: config.clientSecret });
      const got = judgeApi(path, r);
      if (got === "token") throw fail("rejected", path, null, r.status, "the app's credentials were refused");
      if (typeof got.accessToken !== "string" || typeof got.expireIn !== "number") throw fail("retry_later", path, null, r.status, "answer has no accessToken");
      return { token: got.accessToken, expiresInSec: got.expireIn };
    },
  });
  const oapiToken = createTokenSource(`${scope}:token:oapi`, {
    ...common,
    async fetchToken() {
      const path = "/gettoken";
      const query = new URLSearchParams({ appkey: config.clientId, appsecret: config.clientSecret });
      const r = await send("GET", `${config.oapiBase}${path}?${query.toString()}`, path, {});
      const got = judgeOapi(path, r);
      if (got === "token") throw fail("rejected", path, null, r.status, "the app's credentials were refused");
      if (typeof got.access_token !== "string" || typeof got.expires_in !== "number") throw fail("retry_later", path, null, r.status, "answer has no access_token");
      return { token: got.access_token, expiresInSec: got.expires_in };
    },
  });

  async function api(method: "GET" | "POST" | "PUT", path: string, body?: unknown): Promise<Json> {
    const token = await apiToken.get();
    const call = (t: string) => send(method, `${config.apiBase}${path}`, path, { "x-acs-dingtalk-access-token": t }, body);
    const first = judgeApi(path, await call(token));
    if (first !== "token") return first;
    deps.log.info({ platform: "dingtalk", path }, "dingtalk token refused, renewing");
    const again = judgeApi(path, await call(await apiToken.renew(token)));
    // A token issued a moment ago refused too: DingTalk's trouble, not the message's; it is tried again later.
    if (again === "token") throw fail("retry_later", path, null, 401, "token refused twice");
    return again;
  }

  async function oapi(path: string, body?: unknown, query: Record<string, string> = {}): Promise<Json> {
    const token = await oapiToken.get();
    const call = (t: string) =>
      send(body === undefined ? "GET" : "POST", `${config.oapiBase}${path}?${new URLSearchParams({ ...query, access_token: t }).toString()}`, path, {}, body);
    const first = judgeOapi(path, await call(token));
    if (first !== "token") return first;
    deps.log.info({ platform: "dingtalk", path }, "dingtalk token refused, renewing");
    const again = judgeOapi(path, await call(await oapiToken.renew(token)));
    if (again === "token") throw fail("retry_later", path, null, null, "token refused twice");
    return again;
  }

  const ticket = createTokenSource(`${scope}:ticket:jsapi`, {
    ...common,
    async fetchToken() {
      const got = await oapi("/get_jsapi_ticket");
      if (typeof got.ticket !== "string" || !got.ticket || typeof got.expires_in !== "number") {
        throw fail("retry_later", "/get_jsapi_ticket", null, null, "answer has no ticket");
      }
      return { token: got.ticket, expiresInSec: got.expires_in };
    },
  });

  return {
    api,
    oapi,
    jsapiTicket: () => ticket.get(),
    ready: async () => void (await apiToken.get()),
    async webhook(url, body) {
      const path = "/robot/send";
      const got = judgeOapi(path, await send("POST", url, path, {}, body));
      if (got === "token") throw fail("rejected", path, null, null, "the robot webhook's access_token was refused");
      return got;
    },
  };
}

/** "0" for an answer that succeeded; else the new API's code, the old API's errcode, or `http_<status>`. */
function callCode(r: { status: number; json: Json }): string {
  if (r.status < 200 || r.status >= 300) return typeof r.json.code === "string" && r.json.code ? r.json.code.slice(0, 64) : `http_${r.status}`;
  const errcode = typeof r.json.errcode === "number" ? r.json.errcode : Number(r.json.errcode ?? 0);
  return errcode ? String(errcode) : "0";
}

function retryAfterMs(header: string | null): number | undefined {
  const sec = Number(header);
  return header && Number.isFinite(sec) && sec >= 0 ? Math.min(sec * 1000, 3_600_000) : undefined;
}
