import type { Server } from "node:http";
import { createApp } from "./app";
import { ConfigError, loadConfig } from "./config";

/** SIGTERM to exit: within this, or the process exits 1 anyway (Kubernetes' default grace is 30 s). */
const SHUTDOWN_LIMIT_MS = 10_000;
/** How long in-flight requests get before their connections are closed (long-lived streams never end). */
const IN_FLIGHT_GRACE_MS = 5_000;
/** Kept for closing the database and the cache after the inbound events in hand. */
const CLOSE_RESERVE_MS = 1_000;

/** Process entry: config → app → listen; SIGTERM/SIGINT drain and exit within SHUTDOWN_LIMIT_MS. */
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
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    const started = Date.now();
    app.log.info({ signal }, "shutting down");
    setTimeout(() => {
      app.log.error({ ms: Date.now() - started }, "shutdown took too long; exiting anyway");
      process.exit(1);
    }, SHUTDOWN_LIMIT_MS - 250).unref();

    // No new connections from here on; each in-flight request finishes on its own connection.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // A keep-alive connection becomes idle once its response is sent: close it then, not at the timeout.
    const idle = setInterval(() => server.closeIdleConnections(), 100);
    server.closeIdleConnections();
    // Meanwhile the background work stops: Stream, jobs, outbox (leases and locks handed back).
    const background = app.stopBackground().catch((err) => app.log.error({ err }, "stopping background work failed"));
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([closed, new Promise<void>((resolve) => (grace = setTimeout(resolve, IN_FLIGHT_GRACE_MS)))]);
    clearTimeout(grace);
    server.closeAllConnections();
    await closed;
    clearInterval(idle);
    await background;
    const drainMs = Math.max(0, SHUTDOWN_LIMIT_MS - CLOSE_RESERVE_MS - 250 - (Date.now() - started));
    try {
      await app.close({ drainMs });
    } catch (err) {
      app.log.error({ err }, "closing failed");
      process.exit(1);
    }
    app.log.info({ ms: Date.now() - started }, "stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

main().catch((err) => {
  process.stderr.write(`chatorder: failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
