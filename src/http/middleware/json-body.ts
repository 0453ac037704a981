import { bodyParser } from "@koa/bodyparser";
import type { Context, Next } from "koa";
import { DomainError } from "../../domain/errors";

const WITH_BODY = new Set(["POST", "PUT", "PATCH"]);

/** JSON bodies only, within the size limit; anything else is a 415 before any handler runs. */
export function jsonBody(limitKb: number) {
  const parser = bodyParser({ enableTypes: ["json"], jsonLimit: `${limitKb}kb`, encoding: "utf-8" });
  return async function requireJsonBody(ctx: Context, next: Next) {
    const hasBody = Number(ctx.get("Content-Length") || 0) > 0 || ctx.get("Transfer-Encoding") !== "";
    if (WITH_BODY.has(ctx.method) && hasBody && !ctx.is("application/json")) {
      throw new DomainError("unsupported_media_type", "send the body as application/json");
    }
    const declared = Number(ctx.get("Content-Length") || 0);
    if (declared > limitKb * 1024) throw new DomainError("payload_too_large", `request body is over ${limitKb} KB`);
    await parser(ctx, next);
  };
}
