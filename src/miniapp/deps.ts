import type { Logger } from "pino";
import type { Assets } from "../http/assets";
import type { RateLimiter } from "../http/middleware/rate-limit";
import type { Sessions } from "../http/session";
import type { Services } from "../services";

/** What the mini-app's routes use; assembled in app.ts. They call services, never the database. */
export interface MiniAppDeps {
  services: Services;
  sessions: Sessions;
  /** SESSION_SECRET: CSRF tokens are keyed with it. */
  sessionSecret: string;
  assets: Assets;
  /** miniapp/views */
  viewsDir: string;
  log: Logger;
  /** Which platforms can sign people in, so a visitor without a session is sent to the right one. */
  signIn: { wecom: boolean; dingtalk: boolean; simulator: boolean };
  limiter: RateLimiter;
  /** RATE_LIMIT_MINIAPP_POST_PER_MIN: POSTs a minute per signed-in person (per IP without a session). */
  postsPerMinute: number;
}
