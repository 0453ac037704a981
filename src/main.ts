import type { Server } from "node:http";
import { createApp } from "./app";
import { ConfigError, loadConfig } from "./config";

const SHUTDOWN_GRACE_MS = 10_000;

/** Process entry: config → app → listen; SIGTERM/SIGINT drain and exit within the grace period. */
async function main() {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`chatorder: bad configuration: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const app = createApp(config);
  await app.prepare();
  app.startBackground();
  const server: Server = app.http.listen(config.port, config.host, () => {
    app.log.info({ url: config.publicUrl, port: config.port, database: config.database.dialect, cache: app.cache.kind }, "chatorder is listening");
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, "shutting down");
    const force = setTimeout(() => process.exit(1), SHUTDOWN_GRACE_MS).unref();
    server.close(() => {
      void app.close().then(() => {
        clearTimeout(force);
        process.exit(0);
      });
    });
    server.closeIdleConnections();
    // Long-lived streams (the dev console's live updates) would hold the server open: give in-flight
    // requests a moment, then close what is left.
    setTimeout(() => server.closeAllConnections(), 2000).unref();
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((err) => {
  process.stderr.write(`chatorder: failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
