import crypto from "node:crypto";
import type { Context } from "koa";
import type { Config } from "../config";

/** Who a request is signed in as; only the id: roles and "still active" are read from the database. */
export interface Session {
  userId: number;
}

export interface Sessions {
  /** Signs `userId` in for SESSION_TTL_HOURS from now. */
  start(ctx: Context, userId: number): void;
  /** The signed-in user, or null for no cookie, a tampered one or an expired one. */
  read(ctx: Context): Session | null;
  end(ctx: Context): void;
}

export const SESSION_COOKIE = "co_session";

// <user id>.<expiry, unix seconds>.<HMAC-SHA256 of both, base64url>
const VALUE = /^([1-9]\d{0,14})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/;

/**
 * Signed-cookie sessions for the H5 pages opened from WeCom and for the mini-app: nothing is stored
 * server-side, so any instance with the same SESSION_SECRET accepts the cookie. httpOnly keeps it from
 * page scripts; SameSite=Lax keeps it off cross-site POSTs yet still sends it on the top-level
 * redirect back from WeCom's OAuth page.
 */
export function createSessions(config: Pick<Config, "session">, opts: { now?: () => Date } = {}): Sessions {
  const { secret, ttlHours, secure } = config.session;
  const now = opts.now ?? (() => new Date());
  const ttlMs = Math.round(ttlHours * 3600 * 1000);

  const sign = (userId: string, exp: string) =>
    crypto.createHmac("sha256", secret).update(`${SESSION_COOKIE}:v1:${userId}.${exp}`).digest("base64url");

  function write(ctx: Context, value: string | null, maxAge?: number) {
    // Behind a TLS-terminating proxy that does not send X-Forwarded-Proto, Koa believes the request is
    // plain HTTP and refuses to set a Secure cookie; in production the public address is HTTPS anyway.
    if (secure) ctx.cookies.secure = true;
    ctx.cookies.set(SESSION_COOKIE, value, { httpOnly: true, sameSite: "lax", secure, path: "/", maxAge, overwrite: true, signed: false });
  }

  return {
    start(ctx, userId) {
      if (!Number.isSafeInteger(userId) || userId <= 0) throw new Error(`not a user id: ${userId}`);
      const exp = String(Math.floor((now().getTime() + ttlMs) / 1000));
      write(ctx, `${userId}.${exp}.${sign(String(userId), exp)}`, ttlMs);
    },
    read(ctx) {
      const m = VALUE.exec(ctx.cookies.get(SESSION_COOKIE) ?? "");
      if (!m) return null;
      const [, userId, exp, mac] = m;
      // Compared as text: decoding would accept the few spellings of the last base64 character that
      // differ only in ignored bits.
      const given = Buffer.from(mac);
      const expected = Buffer.from(sign(userId, exp));
      if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) return null;
      if (Number(exp) * 1000 <= now().getTime()) return null;
      return { userId: Number(userId) };
    },
    end(ctx) {
      write(ctx, null);
    },
  };
}
