import http from "node:http";
import type { AddressInfo } from "node:net";

export type WecomFault = "http500" | "http502" | "busy" | "expired" | "gettoken500";

/** A platform API on a loopback port: the bodies it accepted, and how many carried each message number ("#12"). */
abstract class FakePlatformServer {
  readonly delivered: string[] = [];
  private server!: http.Server;

  get base(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => this.answer(req, Buffer.concat(chunks).toString("utf8"), res));
    });
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return this;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** How many accepted texts carried message `n`. */
  deliveries(n: number): number {
    return this.delivered.reduce((sum, text) => sum + [...text.matchAll(/#(\d+)\b/g)].filter((m) => Number(m[1]) === n).length, 0);
  }

  protected abstract answer(req: http.IncomingMessage, body: string, res: http.ServerResponse): void;
}


/**
 * WeCom's API as a loopback server (wecom.md 3.1, 4), for fault runs: while `faulty`, each call is
 * answered with the next failure of `faults` in turn — HTTP 5xx, errcode -1 (busy), or the token
 * expiring under the caller (it is rotated and the call answered 42001) — and the token fetch itself
 * fails now and then. With `tokensExpiring`, every token is refused (42001) as soon as it is used. Healthy, it accepts message/send with the current token only. Every request is
 * counted; every accepted text is recorded with the message numbers ("#12") it carries.
 */
export class FakeWecomServer extends FakePlatformServer {
  faulty = false;
  /** Every call answered 42001, even with a token just issued: tokens keep expiring for a while. */
  tokensExpiring = false;
  readonly requests = { gettoken: 0, send: 0, failed: 0, expired: 0 };
  private token = "TOKEN-1";
  private tokens = 1;
  private turn = 0;

  constructor(private readonly faults: WecomFault[] = ["http500", "busy", "expired", "http502", "gettoken500"]) {
    super();
  }

  protected answer(req: http.IncomingMessage, body: string, res: http.ServerResponse) {
    const url = new URL(req.url ?? "/", "http://x");
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { "Content-Type": "application/json" });
      res.end(JSON.stringify(value));
    };
    if (url.pathname === "/cgi-bin/gettoken") {
      this.requests.gettoken += 1;
      if (this.faulty && this.requests.gettoken % 3 === 0) return json(500, { errcode: -1, errmsg: "system busy" });
      return json(200, { errcode: 0, errmsg: "ok", access_token: this.token, expires_in: 7200 });
    }
    if (url.pathname !== "/cgi-bin/message/send") return json(404, { errcode: 404, errmsg: "not faked" });
    this.requests.send += 1;
    if (this.tokensExpiring) this.token = `TOKEN-${++this.tokens}`;
    if (url.searchParams.get("access_token") !== this.token) {
      this.requests.expired += 1;
      return json(200, { errcode: 42001, errmsg: "access_token expired" });
    }
    if (this.faulty) {
      this.requests.failed += 1;
      const fault = this.faults[this.turn++ % this.faults.length];
      if (fault === "http500" || fault === "gettoken500") return json(500, { message: "internal error" });
      if (fault === "http502") {
        res.writeHead(502, { "Content-Type": "text/html" });
        return res.end("<html>bad gateway</html>");
      }
      if (fault === "busy") return json(200, { errcode: -1, errmsg: "system busy" });
      this.token = `TOKEN-${++this.tokens}`;
      this.requests.expired += 1;
      return json(200, { errcode: 42001, errmsg: "access_token expired" });
    }
    const sent = JSON.parse(body) as { text?: { content?: string }; template_card?: unknown };
    this.delivered.push(sent.text?.content ?? JSON.stringify(sent.template_card ?? sent));
    return json(200, { errcode: 0, errmsg: "ok", invaliduser: "", msgid: `MSG-${this.delivered.length}` });
  }
}

/**
 * DingTalk's new API as a loopback server (dingtalk.md 3): the access token and robot batchSend, with
 * the same fault modes — HTTP 500/503, 429 throttling, a token refused (401) mid-run, the token fetch
 * failing — and a spell in which every token is refused as soon as it is used.
 */
export class FakeDingtalkServer extends FakePlatformServer {
  faulty = false;
  tokensExpiring = false;
  readonly requests = { token: 0, send: 0, failed: 0, refusedToken: 0 };
  private token = "DT-1";
  private tokens = 1;
  private turn = 0;

  protected answer(req: http.IncomingMessage, body: string, res: http.ServerResponse) {
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { "Content-Type": "application/json" });
      res.end(JSON.stringify(value));
    };
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (path === "/v1.0/oauth2/accessToken") {
      this.requests.token += 1;
      if (this.faulty && this.requests.token % 3 === 0) return json(503, { code: "ServiceUnavailable", message: "busy" });
      return json(200, { accessToken: this.token, expireIn: 7200 });
    }
    if (path !== "/v1.0/robot/oToMessages/batchSend") return json(404, { code: "NotFaked", message: path });
    this.requests.send += 1;
    if (this.tokensExpiring) this.token = `DT-${++this.tokens}`;
    const refused = () => {
      this.requests.refusedToken += 1;
      return json(401, { code: "InvalidAuthentication", message: "不合法的access_token" });
    };
    if (req.headers["x-acs-dingtalk-access-token"] !== this.token) return refused();
    if (this.faulty) {
      this.requests.failed += 1;
      switch (this.turn++ % 4) {
        case 0:
          return json(500, { code: "InternalError", message: "internal error" });
        case 1:
          return json(429, { code: "Throttling", message: "too many requests" });
        case 2:
          this.token = `DT-${++this.tokens}`;
          return refused();
        default:
          return json(503, { code: "ServiceUnavailable", message: "busy" });
      }
    }
    const sent = JSON.parse(body) as { msgParam?: string };
    this.delivered.push(sent.msgParam ?? body);
    return json(200, { processQueryKey: `pqk-${this.delivered.length}`, invalidStaffIdList: [], flowControlledStaffIdList: [] });
  }
}
