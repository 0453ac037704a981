import http from "node:http";
import type { AddressInfo } from "node:net";
import type { App } from "../../../src/app";

export interface RawRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** Set when the connection failed instead of answering (status 0). */
  error?: string;
}

/** The app on a loopback port, with a keep-alive client that sends bytes exactly as given. */
export async function listen(app: App): Promise<{ server: http.Server; port: number; send: (req: RawRequest) => Promise<RawResponse>; close: () => Promise<void> }> {
  const server = http.createServer(app.http.callback());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  return {
    server,
    port,
    send: (req) => sendRaw(port, agent, req),
    async close() {
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export function sendRaw(port: number, agent: http.Agent | false, req: RawRequest, timeoutMs = 15_000): Promise<RawResponse> {
  return new Promise((resolve) => {
    const body = req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body, "utf8");
    // Header values go out as their UTF-8 bytes; only the control characters HTTP cannot carry are replaced.
    const headers: Record<string, string | number> = Object.fromEntries(
      Object.entries(req.headers ?? {}).map(([k, v]) => [k, [...Buffer.from(v, "utf8").toString("latin1")].map((c) => (c.charCodeAt(0) === 9 || (c.charCodeAt(0) >= 32 && c.charCodeAt(0) !== 127) ? c : "?")).join("")]),
    );
    if (body !== undefined && headers["Content-Length"] === undefined) headers["Content-Length"] = body.length;
    // Whatever is not printable ASCII goes out percent-encoded, as a client must send it.
    const path = req.path.replace(/[^\x21-\x7e]/gu, (c) => [...Buffer.from(c, "utf8")].map((b) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`).join(""));
    const r = http.request({ host: "127.0.0.1", port, method: req.method, path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", (err) => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: "", error: err.message }));
    });
    r.setTimeout(timeoutMs, () => r.destroy(new Error("timed out")));
    r.on("error", (err) => resolve({ status: 0, headers: {}, text: "", error: err.message }));
    if (body !== undefined) r.write(body);
    r.end();
  });
}

/** Runs `tasks` with at most `limit` in flight. */
export async function inParallel<T, R>(items: readonly T[], limit: number, run: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await run(items[i], i);
      }
    }),
  );
  return out;
}
