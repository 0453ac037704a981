import pino, { type Logger } from "pino";

/** One logger per app; secrets are redacted by configuration, never by remembering. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "chatorder" },
      redact: {
        paths: [
          "*.authorization",
          "*.Authorization",
          "req.headers.authorization",
          "*.access_token",
          "*.accessToken",
          "*.secret",
          "*.aesKey",
          "*.token",
          "*.key",
          "headers.cookie",
        ],
        censor: "[redacted]",
      },
    },
    destination,
  );
}
