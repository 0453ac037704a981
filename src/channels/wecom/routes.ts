import type { IncomingMessage } from "node:http";
import Router from "@koa/router";
import type { Context } from "koa";
import type { Logger } from "pino";
import type { InboundPipeline } from "../../bot/inbound";
import type { Cache } from "../../cache/cache";
import type { WecomConfig } from "../../config";
import { DomainError, type ErrorCode } from "../../domain/errors";
import { createCardCodes } from "./card-codes";
import type { DirectRoute } from "../../http/direct-routes";
import type { ExactRoute } from "../../http/server";
import { CallbackError, type CallbackRefusal } from "./crypto";
import { openCallback, verifyUrl, type CallbackQuery } from "./inbound";

export interface WecomCallbackDeps {
  config: WecomConfig;
  inbound: InboundPipeline;
  /** Keeps each click's response_code for updateCard (wecom.md 5.4); the same cache the channel uses. */
  cache: Cache;
  log: Logger;
  now: () => Date;
  /** Largest accepted callback body; WeCom's envelopes are a few KB. */
  bodyLimitBytes?: number;
}

/** GET (handshake) and POST (messages, events) share one path, as the console expects (wecom.md gotcha 14). */
export const WECOM_CALLBACK_PATH = "/wecom/callback";
const BODY_LIMIT_BYTES = 64 * 1024;
// What we answer an accepted POST with (the brief's choice). wecom.md 1.6 documents an empty 200 body
// as "no reply"; anything else that is not an encrypted reply envelope is assumed to be ignored.
const ACK = "success";

const REFUSED: Record<CallbackRefusal, { code: ErrorCode; message: string }> = {
  forged: { code: "unauthorized", message: "callback signature does not match" },
  stale: { code: "unauthorized", message: "callback timestamp is outside the replay window" },
  wrong_receiver: { code: "forbidden", message: "callback is not for this corp" },
  malformed: { code: "validation_failed", message: "callback is malformed" },
  too_large: { code: "payload_too_large", message: "callback body is too large" },
};

/**
 * /wecom/callback: verify, decrypt, de-duplicate and persist, then answer at once (WeCom retries after
 * 5 s, wecom.md 2.3); the bot handles the event after the answer. Refusals are logged once, here.
 */
export function wecomCallbackRoutes(deps: WecomCallbackDeps): Router {
  return wecomCallbacks(deps).router;
}

/**
 * The same handlers thrice: as a router (every method and path variant, Allow on a 405), as the exact
 * GET route the HTTP app dispatches ahead of its routers, and as the direct POST route answered ahead
 * of Koa altogether (src/http/server.ts). Built once, so all share one card-code store.
 */
export function wecomCallbacks(deps: WecomCallbackDeps): { router: Router; exact: ExactRoute[]; direct: DirectRoute[] } {
  const { config, inbound, log, now } = deps;
  const codes = createCardCodes(config, deps.cache);
  const limit = deps.bodyLimitBytes ?? BODY_LIMIT_BYTES;
  const router = new Router();

  function refuse(method: string, ip: string, err: unknown): never {
    if (!(err instanceof CallbackError)) throw err;
    log.warn({ platform: "wecom", method, reason: err.reason, detail: err.message, ip }, "wecom callback refused");
    const { code, message } = REFUSED[err.reason];
    throw new DomainError(code, message);
  }

  async function verifyWecomUrl(ctx: Context) {
    let echo: string;
    try {
      echo = verifyUrl(config, ctx.query, now());
    } catch (err) {
      refuse(ctx.method, ctx.ip, err);
    }
    // Exactly the decrypted text: no quotes, BOM or newline (wecom.md 1.2, gotcha 1).
    ctx.type = "text/plain";
    ctx.body = echo;
  }

  /**
   * Verify, decrypt, de-duplicate and persist one posted callback; resolves to what WeCom is answered.
   * Within the budget (WECOM_CALLBACK_BUDGET_MS), or a 503: an answer held past WeCom's 5 s is given up
   * on anyway, and a prompt refusal tells it (and whoever watches the logs) to deliver again now. The
   * store carries on: once it lands, the repeat is answered as a duplicate; if it fails, the claim is
   * released and the repeat stores the event. Nothing is acknowledged before it is stored.
   */
  function accept(req: IncomingMessage, query: CallbackQuery, ip: string): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      let answered = false;
      const timer = setTimeout(() => {
        answered = true;
        log.warn({ platform: "wecom", budgetMs: config.callbackBudgetMs, ip }, "wecom callback not stored within its budget; answered 503");
        reject(new DomainError("unavailable", "callback could not be stored in time; deliver it again"));
      }, config.callbackBudgetMs);
      store(req, query, ip).then(
        (answer) => {
          clearTimeout(timer);
          resolve(answer);
        },
        (err: unknown) => {
          clearTimeout(timer);
          // After a 503 whatever the store comes to is only logged: the answer has gone.
          if (answered && !(err instanceof DomainError)) log.error({ err, platform: "wecom" }, "wecom callback store failed after its 503");
          reject(err);
        },
      );
    });
  }

  async function store(req: IncomingMessage, query: CallbackQuery, ip: string): Promise<string> {
    let opened: ReturnType<typeof openCallback>;
    const at = now();
    try {
      opened = openCallback(config, query, await readBody(req, limit), at);
    } catch (err) {
      refuse("POST", ip, err);
    }
    // A tap's ResponseCode (wecom.md 5.4) must outlive this answer without costing the answer a write of
    // its own. It is cached here (the fast path: an update that runs before the bot has handled the tap
    // finds it), and it rides in the event (opened.event.cardCode) that inbound.receive stores before we
    // answer, in the same group-committed INSERT as every callback: once WeCom has our "success" the code
    // is durable. The bot's handling of the event records it in card_refs (app.ts), off the answer path;
    // after a crash in between, recover() hands the stored event, code and all, to the bot again. So an
    // acknowledged tap's code is never lost, and no synchronous card_refs write per click is added here.
    if (opened.clickCode) await codes.remember(opened.clickCode, at);
    if (opened.event) await inbound.receive(opened.event);
    else log.debug({ platform: "wecom", ignored: opened.ignored }, "wecom callback ignored");
    return ACK;
  }

  async function receiveWecomCallback(ctx: Context) {
    const answer = await accept(ctx.req, ctx.query, ctx.ip);
    ctx.type = "text/plain";
    ctx.body = answer;
  }

  router.get(WECOM_CALLBACK_PATH, verifyWecomUrl);
  router.post(WECOM_CALLBACK_PATH, receiveWecomCallback);
  return {
    router,
    exact: [{ method: "GET", path: WECOM_CALLBACK_PATH, handler: verifyWecomUrl }],
    // Posts, the hot path, are answered ahead of Koa (src/http/direct-routes.ts) by the same accept().
    direct: [{ method: "POST", path: WECOM_CALLBACK_PATH, handle: accept }],
  };
}

/**
 * The raw body as text, whatever its Content-Type (wecom.md 1.5), refused past `limit` bytes without
 * buffering the rest: Node discards what is left once the response is sent.
 */
function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) {
    return Promise.reject(new CallbackError("too_large", `declared ${declared} bytes`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      req.off("data", onData).off("end", onEnd).off("error", onError).off("aborted", onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      done();
      req.resume(); // keep draining into nothing so the 413 can still be written
      reject(new CallbackError("too_large", `over ${limit} bytes`));
    };
    // Left attached once the body is in: the request is finished with, so taking four listeners off again
    // (each a lookup and a delete on its event table, which showed in bench:wecom profiles) buys nothing.
    // A late error only settles a settled promise.
    const onEnd = () => resolve(chunks.length === 1 ? chunks[0].toString("utf8") : Buffer.concat(chunks).toString("utf8"));
    const onError = () => {
      done();
      reject(new CallbackError("malformed", "request body was cut off"));
    };
    req.on("data", onData).on("end", onEnd).on("error", onError).on("aborted", onError);
  });
}
