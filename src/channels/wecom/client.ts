import type { Logger } from "pino";
import type { Cache } from "../../cache/cache";
import type { WecomConfig } from "../../config";
import { ChannelError, type ChannelFailure } from "../channel";
import type { ApiCallObserver } from "../../metrics/metrics";
import { createTokenSource, type TokenSource } from "./token";

/** A WeCom JSON answer: failed iff errcode is present and not 0 (wecom.md conventions). */
export type ApiResult = { errcode?: number; errmsg?: string } & Record<string, unknown>;

/** A ChannelError that remembers which call failed with which errcode, for callers with special cases. */
export class WecomApiError extends ChannelError {
  /** The errcode, or what went wrong underneath it (`network`, `http_502`, `not_json`), for metrics. */
  code = "error";
  constructor(
    failure: ChannelFailure,
    readonly path: string,
    readonly errcode: number | null,
    message: string,
    retryAfterMs?: number,
  ) {
    super(failure, message, retryAfterMs);
    this.name = "WecomApiError";
  }
}

export interface WecomClient {
  get(path: string, query?: Record<string, string>): Promise<ApiResult>;
  post(path: string, body: unknown): Promise<ApiResult>;
  /** Group robot webhook (wecom.md 7.3): no access_token, the robot key is the credential. */
  robot(key: string, body: unknown): Promise<ApiResult>;
  /**
   * A JS-SDK ticket (wecom.md 6.2): `corp` signs wx.config, `agent` signs wx.agentConfig. Cached and
   * refreshed like the access token; never send it to a browser.
   */
  jsapiTicket(kind: JsapiTicketKind): Promise<string>;
  /** Resolves once the access tokens are at hand (cached, or fetched now: the app's, and the 客户联系 one when set); for readiness checks. */
  ready(): Promise<void>;
}

export type JsapiTicketKind = "corp" | "agent";

const TICKET_CALLS: Record<JsapiTicketKind, { path: string; query: Record<string, string> }> = {
  corp: { path: "/cgi-bin/get_jsapi_ticket", query: {} },
  agent: { path: "/cgi-bin/ticket/get", query: { type: "agent_config" } },
};

export interface WecomClientDeps {
  cache: Cache;
  log: Logger;
  now: () => Date;
  fetch?: typeof fetch;
  timeoutMs?: number;
  /** How long to wait for another instance's token refresh (tests shorten it). */
  tokenWaitMs?: number;
  /** Told of every HTTP call to WeCom and its errcode (metrics); never given the query or body. */
  onCall?: ApiCallObserver;
}

// Token refused: drop it, fetch once, retry once (wecom.md 3.1, 3.2; 42007/42009 as the official Python
// sample does). 41001 "token missing" is included as the brief asks, though the token is always sent.
const TOKEN_CODES = new Set([40014, 41001, 42001, 42007, 42009]);
// Busy, frequency and concurrency limits: try again later (wecom.md 3.2). A minute-level block lasts 60 s.
const RETRY_AFTER_MS: Record<number, number | undefined> = { [-1]: undefined, 45009: 60_000, 45033: undefined };

const REFUSED_TTL_MS = 60_000;
/** The customer-contact (客户联系) APIs (wecom.md 7). */
const EXTERNAL_CONTACT_PREFIX = "/cgi-bin/externalcontact/";

/** HTTP to WeCom: base URL from config, token cache, one retry on a refused token, errcodes → ChannelError. */
export function createWecomClient(config: WecomConfig, deps: WecomClientDeps): WecomClient {
  const doFetch = deps.fetch ?? fetch;
  const timeoutMs = deps.timeoutMs ?? 10_000;

  async function send(method: "GET" | "POST", path: string, query: Record<string, string>, body?: unknown): Promise<ApiResult> {
    if (!deps.onCall) return request(method, path, query, body);
    let code = "0";
    try {
      const result = await request(method, path, query, body);
      if (typeof result.errcode === "number" && result.errcode !== 0) code = String(result.errcode);
      return result;
    } catch (err) {
      code = err instanceof WecomApiError ? err.code : "error";
      throw err;
    } finally {
      deps.onCall({ platform: "wecom", path, code });
    }
  }

  async function request(method: "GET" | "POST", path: string, query: Record<string, string>, body?: unknown): Promise<ApiResult> {
    const url = `${config.apiBase}${path}?${new URLSearchParams(query).toString()}`;
    let res: Response;
    try {
      res = await doFetch(url, {
        method,
        headers: body === undefined ? {} : { "Content-Type": "application/json; charset=utf-8" },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      // Never the URL or the error text: the query holds the access_token or the robot key.
      throw fail("retry_later", path, null, `network error (${(err as Error)?.name ?? "error"})`, undefined, "network");
    }
    if (res.status >= 500 || res.status === 429) throw fail("retry_later", path, null, `HTTP ${res.status}`, undefined, `http_${res.status}`);
    if (!res.ok) throw fail("rejected", path, null, `HTTP ${res.status}`, undefined, `http_${res.status}`);
    try {
      return (await res.json()) as ApiResult;
    } catch {
      throw fail("retry_later", path, null, "answer is not JSON", undefined, "not_json");
    }
  }

  function fail(failure: ChannelFailure, path: string, errcode: number | null, detail: string, retryAfterMs?: number, transport?: string) {
    deps.log.warn({ platform: "wecom", path, errcode, failure }, "wecom call failed");
    const err = new WecomApiError(failure, path, errcode, `wecom ${path} failed: ${detail}`, retryAfterMs);
    err.code = transport ?? (errcode === null ? "error" : String(errcode));
    return err;
  }

  function check(path: string, result: ApiResult): ApiResult {
    const errcode = typeof result.errcode === "number" ? result.errcode : 0;
    if (errcode === 0) return result;
    // errmsg is informational only (wecom.md conventions): kept for people, never branched on.
    const detail = `errcode ${errcode}${result.errmsg ? ` (${String(result.errmsg).slice(0, 160)})` : ""}`;
    if (errcode in RETRY_AFTER_MS) throw fail("retry_later", path, errcode, detail, RETRY_AFTER_MS[errcode]);
    throw fail("rejected", path, errcode, detail);
  }

  /** The access token gettoken issues for `secret`, cached under `scope` (wecom.md 3.1: per corp and secret). */
  function accessTokens(secret: string, scope: string): TokenSource {
    const refusedKey = `wecom:token-refused:${scope}`;
    return createTokenSource(`wecom:token:${scope}`, {
      cache: deps.cache,
      now: deps.now,
      waitMs: deps.tokenWaitMs,
      async fetchToken() {
        const path = "/cgi-bin/gettoken";
        // A refused secret is remembered for a minute: repeated wrong secrets get the IP blocked (wecom.md 3.1).
        const refused = await deps.cache.get(refusedKey);
        if (refused) throw new WecomApiError("rejected", path, null, refused);
        let got: ApiResult;
        try {
          got = check(path, await send("GET", path, { corpid: config.corpId, corpsecret: secret }));
        } catch (err) {
          if (err instanceof ChannelError && err.failure === "rejected") await deps.cache.set(refusedKey, err.message, REFUSED_TTL_MS);
          throw err;
        }
        if (typeof got.access_token !== "string" || typeof got.expires_in !== "number") {
          throw fail("retry_later", path, null, "answer has no access_token");
        }
        return { token: got.access_token, expiresInSec: got.expires_in };
      },
    });
  }

  const tokens = accessTokens(config.secret, `${config.corpId}:${config.agentId}`);
  // Customer-contact APIs take the 客户联系 secret's own token when one is set, else the app's (wecom.md 7.1).
  const contactTokens = config.contactSecret ? accessTokens(config.contactSecret, `external:${config.corpId}:${config.agentId}`) : tokens;
  const tokensFor = (path: string) => (path.startsWith(EXTERNAL_CONTACT_PREFIX) ? contactTokens : tokens);

  async function call(method: "GET" | "POST", path: string, query: Record<string, string>, body?: unknown): Promise<ApiResult> {
    const source = tokensFor(path);
    // access_token goes in the query string, never the body (wecom.md conventions; else 41001).
    const token = await source.get();
    const first = await send(method, path, { ...query, access_token: token }, body);
    if (!TOKEN_CODES.has(first.errcode ?? 0)) return check(path, first);
    deps.log.info({ platform: "wecom", path, errcode: first.errcode }, "wecom token refused, renewing");
    const renewed = await source.renew(token);
    const again = await send(method, path, { ...query, access_token: renewed }, body);
    // A token issued a moment ago refused too: WeCom's trouble, not the message's; it is tried again later.
    if (TOKEN_CODES.has(again.errcode ?? 0)) throw fail("retry_later", path, again.errcode ?? null, `errcode ${again.errcode} with a fresh token`);
    return check(path, again);
  }

  // Both tickets are fetched with this app's token and kept apart: they are not interchangeable (42012),
  // and fetches are limited to 400/hour per corp and 100/hour per app (wecom.md 6.2, 3.3).
  const tickets: Record<JsapiTicketKind, TokenSource> = {
    corp: ticketSource("corp"),
    agent: ticketSource("agent"),
  };

  function ticketSource(kind: JsapiTicketKind): TokenSource {
    const { path, query } = TICKET_CALLS[kind];
    return createTokenSource(`wecom:ticket:${kind}:${config.corpId}:${config.agentId}`, {
      cache: deps.cache,
      now: deps.now,
      waitMs: deps.tokenWaitMs,
      async fetchToken() {
        const got = await call("GET", path, query);
        if (typeof got.ticket !== "string" || !got.ticket || typeof got.expires_in !== "number") {
          throw fail("retry_later", path, null, "answer has no ticket");
        }
        return { token: got.ticket, expiresInSec: got.expires_in };
      },
    });
  }

  return {
    jsapiTicket: (kind) => tickets[kind].get(),
    // With a 客户联系 secret of its own, customer notices depend on that token too: a wrong secret shows here
    // (the channel reported degraded, naming it) rather than first as a failed notice.
    async ready() {
      await tokens.get();
      if (contactTokens === tokens) return;
      try {
        await contactTokens.get();
      } catch (err) {
        throw new Error(`customer contact (客户联系) token: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
    },
    get: (path, query = {}) => call("GET", path, query),
    post: (path, body) => call("POST", path, {}, body),
    async robot(key, body) {
      const path = "/cgi-bin/webhook/send";
      return check(path, await send("POST", path, { key }, body));
    },
  };
}
