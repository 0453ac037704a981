import crypto from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { encrypt, getSignature } from "@wecom/crypto";
import { createTestApp, type TestApp } from "../helpers/test-app";
import { API_ACTOR, buildCustomer, buildProduct, buildTeam, buildUser } from "../helpers/factories";
import { routeTo } from "../helpers/jobs";
import { testWecomConfig, textXml, wecomEnv, wecomPost } from "../helpers/wecom";
import { changedTables, tableFingerprints } from "./support/db-state";
import { inParallel, listen, type RawRequest, type RawResponse } from "./support/http-client";
import { deeplyNested, Rng } from "./support/rng";

/**
 * ≥ 10,000 generated malformed requests at every public entrance: the REST API (with and without a
 * valid key), the WeCom callback, DingTalk's H5 and action routes, and the mini-app's forms (signed in
 * with a valid CSRF token, without one, and signed out). Nothing may answer 5xx, the app must still
 * answer /healthz, and a batch in which every request was refused (or only read) must leave every
 * table exactly as it was. The seed is printed: RELIABILITY_SEED=<seed> replays the same inputs.
 */
/** Percent-encodes; a lone surrogate (which cannot be) goes out as the raw bytes of one. */
const enc = (s: string) => {
  try {
    return encodeURIComponent(s);
  } catch {
    return `%ED%A0%80${s.length}`;
  }
};
const TOTAL = Number(process.env.RELIABILITY_FUZZ_CASES ?? 10_500);
const CHUNK = 350;
const IN_FLIGHT = 12;

interface Case {
  family: string;
  req: RawRequest;
}

describe("fuzz: malformed input at every public endpoint", () => {
  let t: TestApp;
  let server: Awaited<ReturnType<typeof listen>>;
  const rng = Rng.fromEnv();
  const cfg = testWecomConfig();
  // No nock here: it would sit in every one of the fuzz's own HTTP requests. DingTalk's OAPI is a
  // loopback server that refuses every sign-in code, as it does an unknown one; nothing reaches WeCom.
  let dingtalk: http.Server;
  const ids = { draft: 0, pending: 0, approved: 0, sku: "", customer: "" };
  const sessions: Record<"rep" | "admin" | "warehouse", { cookie: string; csrf: string }> = {} as never;

  beforeAll(async () => {
    dingtalk = http.createServer((req, res) => {
      res.setHeader("Content-Type", "application/json");
      res.end(JSON.stringify(req.url?.startsWith("/gettoken") ? { errcode: 0, access_token: "O1", expires_in: 7200 } : { errcode: 40078, errmsg: "不存在的临时授权码" }));
    });
    await new Promise<void>((resolve) => dingtalk.listen(0, "127.0.0.1", resolve));
    const dtBase = `http://127.0.0.1:${(dingtalk.address() as AddressInfo).port}`;
    t = await createTestApp({
      env: {
        ...wecomEnv(cfg, "http://127.0.0.1:9"),
        DINGTALK_CLIENT_ID: "dingclientid",
        DINGTALK_CLIENT_SECRET: "client-secret",
        DINGTALK_ROBOT_CODE: "dingrobot0123",
        DINGTALK_CORP_ID: "dingcorp0123456789",
        DINGTALK_AGENT_ID: "3000001",
        DINGTALK_API_BASE: dtBase,
        DINGTALK_OAPI_BASE: dtBase,
        PUBLIC_URL: "https://order.example.com",
      },
    });
    const team = await buildTeam(t.app);
    const admin = await buildUser(t.app, ["admin"], null, "管理员");
    await routeTo(t.app, [team.manager.id]);
    const product = await buildProduct(t.app, { onHand: 1000, listPriceFen: 500 });
    const customer = await buildCustomer(t.app, { ownerUserId: team.rep.id });
    ids.sku = product.sku;
    ids.customer = customer.code;
    const place = (submit: boolean) =>
      t.app.services.placeOrder({ customerCode: customer.code, lines: [{ sku: product.sku, qty: 2 }], submit, source: "api", salesRepId: team.rep.id }, API_ACTOR);
    ids.draft = (await place(false)).id;
    ids.pending = (await place(true)).id;
    const toApprove = await place(true);
    await t.app.services.decideApproval({ orderId: toApprove.id, decision: "approve", comment: null }, { kind: "user", userId: team.manager.id, roles: ["manager"], label: "test" });
    ids.approved = toApprove.id;
    server = await listen(t.app);
    sessions.rep = await signIn(team.rep.platformUserId);
    sessions.admin = await signIn(admin.platformUserId);
    sessions.warehouse = await signIn(team.warehouse.platformUserId);
  });
  afterAll(async () => {
    await server?.close();
    await t?.close();
    await new Promise((resolve) => dingtalk?.close(resolve));
  });

  async function signIn(uid: string) {
    const login = await server.send({ method: "GET", path: `/dev/login?u=${enc(uid)}&next=/m` });
    const cookie = String(login.headers["set-cookie"]?.[0] ?? "").split(";")[0];
    const home = await server.send({ method: "GET", path: "/m", headers: { Cookie: cookie } });
    const csrf = /<meta name="csrf-token" content="([^"]+)">/.exec(home.text)?.[1];
    if (!cookie || !csrf) throw new Error(`sign-in of ${uid} failed: ${login.status}/${home.status}`);
    return { cookie, csrf };
  }

  // ---- generators -------------------------------------------------------------------------------

  const badIds = ["0", "-1", "abc", "1.5", "1e3", "99999999999999999999", "%00", "%E0%A4%A", "..%2F..%2Fetc", "%F0%9F%98%80", "9".repeat(13), "999999", " 1", "0x1f", "null"];
  const existingId = () => String(rng.pick([ids.draft, ids.pending, ids.approved]));
  const orderActions = ["submit", "cancel", "approvals", "start-picking", "picks", "pack", "shipments", "deliver", "payments"];
  const apiRoutes: Array<[string, string]> = [
    ["GET", "/api/v1/orders"],
    ["POST", "/api/v1/orders"],
    ["GET", "/api/v1/orders/:id"],
    ...orderActions.map((a): [string, string] => ["POST", `/api/v1/orders/:id/${a}`]),
    ["GET", "/api/v1/products"],
    ["PUT", "/api/v1/products"],
    ["GET", "/api/v1/customers"],
    ["PUT", "/api/v1/customers"],
    ["GET", "/api/v1/stock/:sku"],
    ["PUT", "/api/v1/stock/:sku"],
  ];
  const badSkus = ["%00", "x".repeat(200), "NO-SUCH-SKU", "%E0%A4%A", "..", "%20", "😀"];
  const fakeIp = () => `10.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`;

  /** A body that is not valid JSON, or is JSON of the wrong shape, or is too large or too deep. */
  function badJsonText(): string {
    switch (rng.int(0, 9)) {
      case 0:
        return `{"customerCode": "${ids.customer}", "lines": [`;
      case 1:
        return "{'a': 1}";
      case 2:
        return '{"a": NaN, "b": Infinity}';
      case 3:
        return rng.junk(60);
      case 4:
        return deeplyNested(rng.int(100, 5_000));
      case 5:
        return deeplyNested(rng.int(100, 5_000), "[", "]");
      case 6:
        return `{"lines": [${Array.from({ length: rng.int(201, 3000) }, () => `{"sku":"${ids.sku}","qty":1}`).join(",")}]}`;
      case 7:
        return JSON.stringify(rng.value());
      case 8:
        return '{"__proto__": {"admin": true}, "constructor": {"prototype": {"x": 1}}}';
      default:
        return "\ufeff" + JSON.stringify({ a: rng.junk() });
    }
  }

  /** An order body with at least one field made invalid. */
  function badOrderBody(): unknown {
    const line: Record<string, unknown> = { sku: ids.sku, qty: 1 };
    const body: Record<string, unknown> = { customerCode: ids.customer, lines: [line] };
    switch (rng.int(0, 11)) {
      case 0:
        line.qty = rng.pick([0, -1, -999999, 1.5, "3", null, 1e12, 2 ** 53 + 1, true]);
        break;
      case 1:
        line.unitPriceFen = rng.pick([-1, 1.01, "100", 1e20, null, {}]);
        break;
      case 2:
        line.sku = rng.pick(["", " ", "x".repeat(65), 7, null, "NO-SUCH-SKU-" + rng.int(0, 1e6)]);
        break;
      case 3:
        body.customerCode = rng.pick(["", 42, null, "x".repeat(65), "NO-SUCH-CUSTOMER-" + rng.int(0, 1e6), ["a"]]);
        break;
      case 4:
        delete body[rng.pick(["customerCode", "lines"])];
        break;
      case 5:
        body.lines = rng.pick([[], {}, "lines", null, [null], [[]]]);
        break;
      case 6:
        body[rng.pick(["extra", "salesRepId", "status", "totalFen"])] = rng.value();
        break;
      case 7:
        line[rng.pick(["price", "discount", "sku2"])] = 1;
        break;
      case 8:
        body.note = "注".repeat(rng.int(501, 3000));
        break;
      case 9:
        body.submit = rng.pick(["yes", 1, null, {}]);
        break;
      case 10:
        body.shipTo = rng.pick([{ address: "x".repeat(300) }, { phone: 123 }, { other: "x" }, "addr"]);
        break;
      default:
        line.qty = rng.pick([1_000_001, 10_000_000_000]);
    }
    return body;
  }

  function badBodyFor(path: string): unknown {
    if (path.endsWith("/api/v1/orders")) return badOrderBody();
    if (path.endsWith("/submit")) return { expectedVersion: rng.pick([0, -1, "1", 1.5, null]) };
    if (path.endsWith("/cancel")) return rng.pick([{}, { reason: "" }, { reason: "  " }, { reason: "x".repeat(501) }, { reason: 5 }, { reason: "ok", extra: 1 }]);
    if (path.endsWith("/approvals")) return rng.pick([{}, { decision: "maybe", approverId: 1 }, { decision: "approve" }, { decision: "approve", approverId: -1 }, { decision: "approve", approverId: "1" }, { decision: "approve", approverId: 999999 }]);
    if (path.endsWith("/picks")) return rng.pick([{}, { lines: [] }, { lines: [{ sku: ids.sku, qty: -1 }] }, { lines: [{ sku: ids.sku }] }, { lines: "all" }]);
    if (path.endsWith("/shipments")) return rng.pick([{}, { carrier: "", trackingNo: "AB12" }, { carrier: "SF", trackingNo: "<script>" }, { carrier: "SF", trackingNo: "A" }, { carrier: "SF", trackingNo: "ABCD1234", lines: [] }]);
    if (path.endsWith("/payments")) return rng.pick([{}, { amountFen: 0, paidAt: "2026-01-01T00:00:00Z" }, { amountFen: -5, paidAt: "2026-01-01T00:00:00Z" }, { amountFen: 100, paidAt: "9999-01-01T00:00:00Z" }, { amountFen: 100, paidAt: "yesterday" }, { amountFen: 1e30, paidAt: "2026-01-01T00:00:00Z" }]);
    if (path.endsWith("/start-picking") || path.endsWith("/pack") || path.endsWith("/deliver")) return rng.pick([{ x: 1 }, { force: true }, [], "go"]);
    if (path.endsWith("/products")) {
      return rng.pick([
        [{ sku: "", name: "x", listPriceFen: 1 }],
        [{ sku: ids.sku, name: "x", listPriceFen: -1 }],
        { sku: ids.sku, name: "", listPriceFen: 1 },
        [{ sku: "P-" + rng.int(0, 1e6), name: "x", listPriceFen: 1.5 }],
        [{ sku: "P-" + rng.int(0, 1e6), name: "x".repeat(300), listPriceFen: 100 }],
        [],
        { items: [] },
      ]);
    }
    if (path.endsWith("/customers")) {
      return rng.pick([
        [{ code: "", name: "x" }],
        [{ code: ids.customer, name: "" }],
        { code: "C-" + rng.int(0, 1e6), name: "x", creditLimitFen: -1 },
        [{ code: "C-" + rng.int(0, 1e6), name: "x", chatPlatform: "fax" }],
        [{ code: "C-" + rng.int(0, 1e6), name: "x", chatPlatform: "wecom", chatTarget: "x".repeat(513) }],
      ]);
    }
    if (path.includes("/stock/")) return rng.pick([{}, { onHand: -1 }, { onHand: "5" }, { onHand: 1.5 }, { onHand: 1e12 }, { onHand: 5, reserved: 0 }]);
    return rng.value();
  }

  function fillPath(template: string, allowExisting: boolean): string {
    return template
      .replace(":id", allowExisting && rng.chance(0.5) ? existingId() : rng.pick(badIds))
      .replace(":sku", rng.chance(0.3) ? enc(ids.sku) : rng.pick(badSkus));
  }

  const badQuery = () =>
    rng.pick([
      "?status=bogus",
      "?status=draft,,nope",
      "?limit=0",
      "?limit=-5",
      "?limit=1e9",
      "?limit=abc",
      "?from=2026-13-45",
      "?to=yesterday",
      "?cursor=" + enc(rng.junk(20)),
      "?cursor=" + "x".repeat(100),
      "?q=" + "x".repeat(200),
      "?q=%E0%A4%A",
      "?status[]=draft&status[]=approved",
      "?customerCode=&customerCode=x",
      "?__proto__[x]=1",
      "?unknown=1",
      "?" + "a=1&".repeat(2000),
    ]);

  const badContentType = () =>
    rng.pick(["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml", "application/json; charset=latin1", "application/jsonx", "", "*/*"]);

  function apiWithBadKey(): Case {
    const [method, template] = rng.pick(apiRoutes);
    const auth = rng.pick([
      undefined,
      "Bearer",
      "Bearer ",
      "Bearer co_0000000000_" + "A".repeat(40),
      "Basic dXNlcjpwYXNz",
      "bearer " + rng.junk(30),
      t.apiKeyHeader.Authorization.slice(0, -1) + (t.apiKeyHeader.Authorization.endsWith("A") ? "B" : "A"),
      t.apiKeyHeader.Authorization + "x",
      "Bearer " + "x".repeat(5000),
      t.apiKeyHeader.Authorization.replace("Bearer ", "Token "),
    ]);
    const headers: Record<string, string> = { "X-Forwarded-For": fakeIp() };
    if (auth !== undefined) headers.Authorization = auth;
    const req: RawRequest = { method, path: fillPath(template, true), headers };
    if (method !== "GET") {
      headers["Content-Type"] = "application/json";
      req.body = rng.chance(0.3) ? badJsonText() : JSON.stringify(badBodyFor(template));
    }
    return { family: "api: bad or missing key", req };
  }

  function apiWithBadBody(): Case {
    const writes = apiRoutes.filter(([m]) => m !== "GET");
    const [method, template] = rng.pick(writes);
    const headers: Record<string, string> = { ...t.apiKeyHeader, "X-Forwarded-For": "10.0.0.1", "Content-Type": "application/json" };
    const req: RawRequest = { method, path: fillPath(template, true), headers };
    switch (rng.int(0, 9)) {
      case 0:
        headers["Content-Type"] = badContentType();
        req.body = JSON.stringify(badBodyFor(template));
        break;
      case 1:
        req.body = badJsonText();
        break;
      case 2:
        // Over the 1 MB body limit now and then; large but within it otherwise.
        req.body = `{"customerCode":"${"x".repeat(rng.chance(0.15) ? rng.int(1_050_000, 1_200_000) : rng.int(70_000, 200_000))}"}`;
        break;
      case 3:
        if (template.endsWith("/orders")) {
          headers["Idempotency-Key"] = rng.pick(["", " ", "x".repeat(129), "键", "a b", "\u0001"]);
          req.body = JSON.stringify(badOrderBody());
          break;
        }
        req.body = JSON.stringify(badBodyFor(template));
        break;
      default:
        req.body = JSON.stringify(badBodyFor(template));
    }
    return { family: "api: valid key, bad body", req };
  }

  function apiBadQuery(): Case {
    const [, template] = rng.pick(apiRoutes.filter(([m]) => m === "GET"));
    const path = template.includes(":") ? fillPath(template, false) : template + badQuery();
    return { family: "api: bad query or path", req: { method: rng.pick(["GET", "GET", "DELETE", "PATCH", "OPTIONS", "HEAD"]), path, headers: { ...t.apiKeyHeader, "X-Forwarded-For": "10.0.0.1" } } };
  }

  const now = () => Math.floor(Date.now() / 1000);

  function wecomGet(): Case {
    const echo = rng.junk(10) || "x";
    const ts = rng.pick([now(), now() - 3600, now() + 3600, 0]);
    const nonce = String(rng.int(0, 1e9));
    const echostr = rng.chance(0.5) ? encrypt(cfg.aesKey, echo, rng.chance(0.5) ? cfg.corpId : "wwOTHERCORP") : rng.junk(30);
    const sig = rng.chance(0.5) ? getSignature(cfg.token, String(ts), nonce, echostr) : crypto.randomBytes(20).toString("hex");
    const q = new URLSearchParams({ msg_signature: sig, timestamp: String(ts), nonce, echostr });
    if (rng.chance(0.2)) q.delete(rng.pick(["msg_signature", "timestamp", "nonce", "echostr"]));
    // Only the exact combination (good signature, fresh, our corp) is accepted, and it changes nothing.
    return { family: "wecom: GET handshake", req: { method: "GET", path: `/wecom/callback?${q.toString()}` } };
  }

  function wecomPostCase(): Case {
    const inner = textXml(rng.pick(["zhangsan", "no-such-user", rng.junk(10)]), rng.junk(30), String(rng.int(1, 1e9)));
    let signed = wecomPost(cfg, inner);
    let body = signed.body;
    let query: Record<string, string> = signed.query;
    const headers: Record<string, string> = { "Content-Type": rng.pick(["text/xml", "application/xml", "application/json", "text/plain", ""]) };
    switch (rng.int(0, 11)) {
      case 0:
        query = { ...query, msg_signature: crypto.randomBytes(20).toString("hex") };
        break;
      case 1:
        signed = wecomPost(cfg, inner, { timestamp: now() - rng.int(400, 100_000) });
        ({ body, query } = signed);
        break;
      case 2:
        signed = wecomPost(cfg, inner, { receiveId: "wwOTHERCORP0000000" });
        ({ body, query } = signed);
        break;
      case 3:
        signed = wecomPost(cfg, inner, { token: "WrongToken" });
        ({ body, query } = signed);
        break;
      case 4:
        body = body.slice(0, rng.int(0, body.length - 1));
        break;
      case 5:
        body = rng.pick(["", "<xml>", "<xml><Encrypt></Encrypt></xml>", "not xml at all", '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><Encrypt>&e;</Encrypt></xml>', rng.junk(80)]);
        break;
      case 6:
        body = `<xml><Encrypt><![CDATA[${"A".repeat(rng.int(66_000, 120_000))}]]></Encrypt></xml>`;
        break;
      case 7: {
        // Signed correctly over ciphertext that does not decrypt.
        const enc = crypto.randomBytes(rng.int(1, 200)).toString("base64");
        const ts = String(now());
        query = { msg_signature: getSignature(cfg.token, ts, "1", enc), timestamp: ts, nonce: "1" };
        body = `<xml><ToUserName><![CDATA[${cfg.corpId}]]></ToUserName><Encrypt><![CDATA[${enc}]]></Encrypt></xml>`;
        break;
      }
      case 8: {
        // Valid envelope around an inner message that is not XML (or not a message).
        signed = wecomPost(cfg, rng.pick(["", "garbage", "<xml><MsgType>text</MsgType>", deeplyNested(3000, "<a>", "</a>"), rng.junk(50)]));
        ({ body, query } = signed);
        break;
      }
      case 9:
        delete query[rng.pick(["msg_signature", "timestamp", "nonce"])];
        break;
      case 10:
        query = { ...query, timestamp: rng.pick(["abc", "-1", "1e10", "", "99999999999999999999"]) };
        break;
      default:
        signed = wecomPost(cfg, inner, { outerTo: "wwOTHERCORP0000000", receiveId: "wwOTHERCORP0000000" });
        ({ body, query } = signed);
    }
    return { family: "wecom: POST callback", req: { method: "POST", path: `/wecom/callback?${new URLSearchParams(query).toString()}`, headers, body } };
  }

  function dingtalkCase(): Case {
    switch (rng.int(0, 4)) {
      case 0:
        return { family: "dingtalk: h5 page", req: { method: "GET", path: `/dingtalk/h5?next=${enc(rng.pick(["//evil.example", "https://evil.example/m", "/m/../../x", "javascript:alert(1)", rng.junk(20)]))}` } };
      case 1: {
        const body = rng.pick([JSON.stringify({ code: "CODE-" + rng.int(0, 1e6) }), JSON.stringify({ code: rng.junk(10) }), JSON.stringify({ code: "x".repeat(600) }), JSON.stringify({}), badJsonText(), JSON.stringify({ code: "c", next: "//evil" })]);
        return { family: "dingtalk: h5 sign-in", req: { method: "POST", path: "/dingtalk/h5/session", headers: { "Content-Type": rng.chance(0.8) ? "application/json" : badContentType() }, body } };
      }
      case 2:
        return { family: "dingtalk: jsapi config", req: { method: "GET", path: `/dingtalk/jsapi-config?url=${enc(rng.junk(20))}`, headers: rng.chance(0.5) ? { Cookie: sessions.rep.cookie } : {} } };
      case 3: {
        const q = new URLSearchParams({ k: rng.pick([rng.junk(30), "x".repeat(2000), "approve:1"]), s: rng.pick(["A".repeat(32), rng.junk(10), ""]) });
        return { family: "dingtalk: action link", req: { method: "GET", path: `/dingtalk/act?${q.toString()}` } };
      }
      default: {
        const body = rng.pick([JSON.stringify({ k: "approve:" + ids.pending, s: "A".repeat(32) }), JSON.stringify({ k: rng.junk(20), s: crypto.randomBytes(24).toString("base64url") }), badJsonText(), JSON.stringify({})]);
        return { family: "dingtalk: action POST", req: { method: "POST", path: "/dingtalk/act", headers: { "Content-Type": "application/json", Cookie: rng.pick([sessions.rep.cookie, ""]) }, body } };
      }
    }
  }

  const miniPosts = [
    "/m/api/orders",
    "/m/api/orders/:id",
    "/m/api/quote",
    "/m/orders/:id/submit",
    "/m/orders/:id/cancel",
    "/m/orders/:id/decision",
    "/m/warehouse/orders/:id/start",
    "/m/warehouse/orders/:id/picks",
    "/m/warehouse/orders/:id/pack",
    "/m/warehouse/orders/:id/ship",
    "/m/admin/users/roles",
    "/m/admin/rules",
    "/m/admin/outbox/retry",
    "/m/admin/import/:kind",
    "/m/lang",
  ];

  /** Form fields that cannot pass: wrong types, out of range, unknown enums, or the wrong order state. */
  function junkFields(path: string): Record<string, unknown> {
    if (path === "/m/api/orders") return { ...(badOrderBody() as object), idempotencyKey: rng.pick(["short", "键键键键键键键键", undefined, "x".repeat(65)]) };
    if (path.startsWith("/m/api/orders/")) return { expectedVersion: rng.pick([-1, "a", null]), customerCode: rng.pick(["", 5]), lines: rng.pick([[], "x"]) };
    if (path === "/m/api/quote") return { lines: rng.pick(["x", [{ sku: 5, qty: "a" }], Array(201).fill({ sku: "a", qty: 1 })]), orderId: rng.pick([-1, "x", 0]) };
    if (path.endsWith("/submit")) return { version: rng.pick(["abc", "-1", "1.5", "NaN"]) };
    if (path.endsWith("/cancel")) return { reason: rng.pick(["", "   ", "x".repeat(201)]) };
    if (path.endsWith("/decision")) return { decision: rng.pick(["maybe", "", "APPROVE", "approve "]), stepId: rng.pick(["-1", "x", "0"]), comment: "x".repeat(rng.int(0, 600)) };
    if (path.endsWith("/picks")) return { [`qty_${rng.int(1, 50)}`]: rng.pick(["-1", "x", "1.5", "99999999"]) };
    if (path.endsWith("/ship")) return { carrier: rng.pick(["", " "]), trackingNo: rng.pick(["<b>", "A", ""]) };
    if (path === "/m/admin/users/roles") return { platform: rng.pick(["fax", "", "simulator"]), platformUserId: rng.junk(10), roles: rng.pick(["god", ["root"], 5]) };
    if (path === "/m/admin/rules") return { rules: rng.pick(["{", rng.junk(40), '{"version":1,"rules":[{"id":1}]}', "x".repeat(60_001)]), action: rng.pick(["save", "preview", "drop"]) };
    if (path === "/m/admin/outbox/retry") return { id: rng.pick(["-1", "abc", "0", "1e400", ""]) };
    if (path === "/m/lang") return { to: rng.junk(10) };
    return Object.fromEntries(Array.from({ length: rng.int(0, 4) }, () => [rng.junk(6), rng.value()]));
  }

  function miniappCase(): Case {
    const mode = rng.pick(["signed-in", "signed-in", "signed-in", "no-csrf", "signed-out"] as const);
    const who = rng.pick(["rep", "admin", "warehouse"] as const);
    const template = rng.pick(miniPosts);
    // The warehouse and admins may act on existing orders; for them only junk ids, so nothing is accepted.
    const path = template
      .replace(":id", who === "rep" && rng.chance(0.6) ? existingId() : rng.pick(badIds))
      .replace(":kind", rng.pick(["products", "customers", "users", "../x", "%00"]));
    const fields = junkFields(template);
    const headers: Record<string, string> = { "User-Agent": rng.pick(["Mozilla/5.0", "Mozilla/5.0 wxwork/4.1", "Mozilla/5.0 DingTalk/7.0"]) };
    if (mode !== "signed-out") headers.Cookie = sessions[who].cookie;
    const csrf = mode === "signed-in" ? sessions[who].csrf : rng.pick(["", "x", sessions.rep.csrf.slice(1), who === "rep" ? sessions.admin.csrf : sessions.rep.csrf]);
    let body: string;
    if (template.startsWith("/m/api/") || rng.chance(0.2)) {
      headers["Content-Type"] = "application/json";
      headers["X-CSRF-Token"] = csrf;
      body = rng.chance(0.15) ? badJsonText() : JSON.stringify(fields);
    } else {
      headers["Content-Type"] = rng.chance(0.9) ? "application/x-www-form-urlencoded" : badContentType();
      const form = new URLSearchParams();
      form.set("_csrf", csrf);
      for (const [k, v] of Object.entries(fields)) if (v !== undefined) form.set(k, typeof v === "string" ? v : JSON.stringify(v));
      body = rng.chance(0.05) ? "a=%E0%A4%A&b=" + "x".repeat(rng.int(40_000, 80_000)) : form.toString();
    }
    return { family: `miniapp: ${mode}`, req: { method: "POST", path, headers, body } };
  }

  function miniappGetCase(): Case {
    const who = rng.pick(["rep", "admin", "warehouse"] as const);
    const path = rng.pick([
      `/m/orders${badQuery()}`,
      `/m/orders/${rng.pick(badIds)}`,
      `/m/orders/${rng.pick(badIds)}/edit`,
      `/m/warehouse/orders/${rng.pick(badIds)}/slip`,
      `/m/api/customers?q=${enc(rng.junk(80))}`,
      `/m/api/products?q=${"x".repeat(rng.int(60, 300))}`,
      `/m/admin/export${badQuery()}`,
      `/m/${rng.junk(5)}`,
      `/m/lang?to=${enc(rng.junk(8))}&next=${enc("//evil.example")}`,
    ]);
    return { family: "miniapp: GET junk", req: { method: "GET", path, headers: rng.chance(0.7) ? { Cookie: sessions[who].cookie } : {} } };
  }

  const families: Array<[number, () => Case]> = [
    [14, apiWithBadKey],
    [24, apiWithBadBody],
    [8, apiBadQuery],
    [5, wecomGet],
    [17, wecomPostCase],
    [8, dingtalkCase],
    [18, miniappCase],
    [6, miniappGetCase],
  ];
  const weightSum = families.reduce((s, [w]) => s + w, 0);
  function nextCase(): Case {
    let roll = rng.next() * weightSum;
    for (const [w, make] of families) {
      if ((roll -= w) < 0) return make();
    }
    return families[families.length - 1][1]();
  }

  // ---- the run ----------------------------------------------------------------------------------

  jest.setTimeout(480_000);
  it(`answers ${TOTAL} malformed requests without a 5xx and changes no row for a refused one`, async () => {
    const started = Date.now();
    const byFamily = new Map<string, { sent: number; refused: number; accepted: number; dropped: number; statuses: Map<number, number> }>();
    const serverErrors: Array<{ index: number; family: string; status: number; req: string; text: string }> = [];
    const unchangedViolations: Array<{ chunk: number; tables: string[] }> = [];
    let chunksChecked = 0;
    let chunksWithAcceptedWrites = 0;
    let acceptedWrites = 0;
    const acceptedSamples: string[] = [];
    const cases: Case[] = Array.from({ length: TOTAL }, nextCase);

    for (let from = 0; from < cases.length; from += CHUNK) {
      const chunk = cases.slice(from, from + CHUNK);
      const before = await tableFingerprints(t.app);
      const answers: RawResponse[] = await inParallel(chunk, IN_FLIGHT, (c) => server.send(c.req));
      // Work the callbacks handed on (nothing, if they were all refused) must be finished before comparing.
      await t.app.inbound.drain();
      let writesAccepted = 0;
      answers.forEach((res, i) => {
        const c = chunk[i];
        const f = byFamily.get(c.family) ?? { sent: 0, refused: 0, accepted: 0, dropped: 0, statuses: new Map() };
        byFamily.set(c.family, f);
        f.sent += 1;
        f.statuses.set(res.status, (f.statuses.get(res.status) ?? 0) + 1);
        if (res.status === 0) f.dropped += 1;
        else if (res.status >= 400) f.refused += 1;
        else f.accepted += 1;
        if (res.status >= 500) {
          serverErrors.push({ index: from + i, family: c.family, status: res.status, req: `${c.req.method} ${c.req.path.slice(0, 120)} ${String(c.req.body ?? "").slice(0, 200)}`, text: res.text.slice(0, 200) });
        }
        // A connection cut while a huge body was still being sent is a refusal too (the server answered 413
        // and closed); anything else that drops the connection is a failure.
        if (res.status === 0 && (c.req.body?.length ?? 0) < 60_000) {
          serverErrors.push({ index: from + i, family: c.family, status: 0, req: `${c.req.method} ${c.req.path.slice(0, 120)}`, text: res.error ?? "" });
        }
        const writes = c.req.method !== "GET" && c.req.method !== "HEAD" && c.req.method !== "OPTIONS";
        // The WeCom callback answers "success" to a message it ignores; only what it stored counts as a write.
        if (writes && res.status >= 200 && res.status < 400 && !(c.family.startsWith("wecom") && res.text === "success")) {
          writesAccepted += 1;
          if (acceptedSamples.length < 10) acceptedSamples.push(`#${from + i} [${c.family}] ${res.status} ${c.req.method} ${c.req.path.slice(0, 100)} ${String(c.req.body ?? "").slice(0, 160)}`);
        }
      });
      const after = await tableFingerprints(t.app);
      if (writesAccepted === 0) {
        chunksChecked += 1;
        const changed = changedTables(before, after);
        if (changed.length) unchangedViolations.push({ chunk: from / CHUNK, tables: changed });
      } else {
        chunksWithAcceptedWrites += 1;
        acceptedWrites += writesAccepted;
      }
      const health = await server.send({ method: "GET", path: "/healthz" });
      expect(health.status).toBe(200);
    }

    const lines = [`fuzz: seed=${rng.seed} (replay with RELIABILITY_SEED=${rng.seed}), ${TOTAL} requests in ${((Date.now() - started) / 1000).toFixed(1)} s`];
    lines.push(`${"family".padEnd(30)} ${"sent".padStart(6)} ${"refused".padStart(8)} ${"2xx/3xx".padStart(8)} ${"dropped".padStart(8)}  statuses`);
    for (const [family, f] of [...byFamily].sort()) {
      const statuses = [...f.statuses].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}×${n}`).join(" ");
      lines.push(`${family.padEnd(30)} ${String(f.sent).padStart(6)} ${String(f.refused).padStart(8)} ${String(f.accepted).padStart(8)} ${String(f.dropped).padStart(8)}  ${statuses}`);
    }
    lines.push(`5xx or dropped = ${serverErrors.length}; chunks of ${CHUNK} checked unchanged = ${chunksChecked}, with accepted writes (not compared) = ${chunksWithAcceptedWrites} (${acceptedWrites} writes); rows changed by refused batches = ${unchangedViolations.length}`);
    for (const e of serverErrors.slice(0, 20)) lines.push(`  5xx #${e.index} [${e.family}] ${e.status} ${e.req} → ${e.text}`);
    for (const a of acceptedSamples) lines.push(`  accepted: ${a}`);
    for (const v of unchangedViolations.slice(0, 10)) lines.push(`  chunk ${v.chunk} changed ${v.tables.join(", ")}`);
    console.log(lines.join("\n"));

    expect(serverErrors).toEqual([]);
    expect(unchangedViolations).toEqual([]);
    expect(chunksChecked).toBeGreaterThan(0);
    expect((await server.send({ method: "GET", path: "/healthz" })).status).toBe(200);
  });
});
