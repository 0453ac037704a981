import pino, { type Logger } from "pino";

// Keys that hold credentials, wherever they appear: at the top of a log line or one object down
// (`{ headers: { authorization } }`, `{ config: { secret } }`), and request headers two down.
const SECRET_KEYS = [
  "authorization",
  "Authorization",
  "cookie",
  "Cookie",
  "set-cookie",
  "access_token",
  "accessToken",
  "secret",
  "clientSecret",
  "appSecret",
  "corpsecret",
  "sessionSecret",
  "webhookSecret",
  "dingtalkWebhookSecret",
  "password",
  "aesKey",
  "token",
  "ticket",
  "apiKey",
];
const REDACT_PATHS = [
  ...SECRET_KEYS.map((k) => (/^[A-Za-z_]+$/.test(k) ? k : `["${k}"]`)),
  ...SECRET_KEYS.map((k) => (/^[A-Za-z_]+$/.test(k) ? `*.${k}` : `*["${k}"]`)),
  // An event's `key` at the top of a line is its platform id (kept); one level down it may be a robot key.
  "*.key",
  "*.headers.authorization",
  "*.headers.cookie",
  '*.headers["set-cookie"]',
];

const NO_TRACE = {};

/**
 * One logger per app; secrets are redacted by configuration, never by remembering. With `traceId`,
 * every line written while a trace is current (a request, an inbound event, an outbox delivery)
 * carries its id, whichever module writes it.
 */
export function createLogger(level: string, destination?: pino.DestinationStream, traceId?: () => string | undefined): Logger {
  return pino(
    {
      level,
      base: { service: "chatorder" },
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      ...(traceId
        ? {
            mixin() {
              const id = traceId();
              return id === undefined ? NO_TRACE : { traceId: id };
            },
          }
        : {}),
    },
    destination,
  );
}
