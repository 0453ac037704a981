import { createTestApp, type TestApp } from "../helpers/test-app";
import { API_ACTOR, buildCustomer, buildProduct, buildUser } from "../helpers/factories";
import { routeTo } from "../helpers/jobs";
import { ROLES } from "../../src/domain/roles";
import { listen, type RawRequest } from "./support/http-client";

/**
 * Every role × every mini-app action and API route, against a table of what the product should allow,
 * written here as data from the product rules (who sells, who approves, who fulfils, who runs the
 * company's settings) rather than read out of the code. Every cell is checked; the matrix is printed.
 *
 *   ✓  allowed: the action succeeds (2xx, or the 302 a form answers with)
 *   ✗  refused: 401 or 403
 *   !  the product rule says refuse but the code allows it today; asserted as allowed (so a change is
 *      noticed) and listed as a finding at the end of the run
 *
 * Personas: "sales" is rep A; the "other rep's order" belongs to rep B; both report to "manager",
 * who reports to "director". Approval is routed to the manager alone.
 */
type Cell = "✓" | "✗" | "!";
const COLUMNS = ["sales", "manager", "finance", "director", "warehouse", "admin", "purchasing", "none", "apikey"] as const;
type Who = (typeof COLUMNS)[number];

// prettier-ignore
const MINI_APP: Array<[string, string]> = [
  //                                                   sales manager finance director warehouse admin purchasing none apikey
  ["GET  /m                       home",              "✓ ✓ ✓ ✓ ✓ ✓ ✓ ✗ ✗"],
  ["GET  /m/orders                order list",        "✓ ✓ ✓ ✓ ✓ ✓ ✓ ✗ ✗"],
  ["GET  /m/orders/new            order form",        "✓ ✓ ✗ ✓ ✗ ✓ ✗ ✗ ✗"],
  ["GET  /m/orders/:own           rep A's order",     "✓ ✓ ✓ ✓ ✓ ✓ ✗ ✗ ✗"],
  ["GET  /m/orders/:other         rep B's order",     "✗ ✓ ✓ ✓ ✓ ✓ ✗ ✗ ✗"],
  ["GET  /m/orders/:own/edit      edit A's draft",    "✓ ✓ ✗ ✓ ✗ ✓ ✗ ✗ ✗"],
  ["GET  /m/orders/:other/edit    edit B's draft",    "✗ ✓ ✗ ✓ ✗ ✓ ✗ ✗ ✗"],
  ["POST /m/api/orders            place",             "✓ ✓ ✗ ✓ ✗ ✓ ✗ ✗ ✗"],
  ["POST /m/api/orders/:own       revise A's draft",  "✓ ✓ ✗ ✓ ✗ ✓ ✗ ✗ ✗"],
  ["POST /m/orders/:own/submit    submit A's draft",  "✓ ✓ ✗ ✓ ✗ ✓ ✗ ✗ ✗"],
  ["POST /m/orders/:own/cancel    cancel A's draft",  "✓ ✓ ✗ ✓ ✗ ✓ ✗ ✗ ✗"],
  ["POST /m/orders/:other/cancel  cancel B's draft",  "✗ ✓ ✗ ✓ ✗ ✓ ✗ ✗ ✗"],
  ["POST /m/orders/:pending/decision approve",        "✗ ✓ ✗ ✗ ✗ ✗ ✗ ✗ ✗"],
  ["GET  /m/approvals             my approvals",      "✓ ✓ ✓ ✓ ✓ ✓ ✓ ✗ ✗"],
  ["GET  /m/warehouse             pick queue",        "✗ ✗ ✗ ✗ ✓ ✓ ✗ ✗ ✗"],
  ["GET  /m/warehouse/orders/:approved pick screen",  "✗ ✗ ✗ ✗ ✓ ✓ ✗ ✗ ✗"],
  ["GET  /m/warehouse/orders/:approved/slip",         "✗ ✗ ✗ ✗ ✓ ✓ ✗ ✗ ✗"],
  ["POST /m/warehouse/orders/:approved/start",        "✗ ✗ ✗ ✗ ✓ ✓ ✗ ✗ ✗"],
  ["GET  /m/dashboard             dashboard",         "✗ ✓ ✗ ✓ ✗ ✓ ✗ ✗ ✗"],
  ["GET  /m/admin                 admin home",        "✗ ✗ ✗ ✗ ✗ ✓ ✗ ✗ ✗"],
  ["GET  /m/admin/users           users",             "✗ ✗ ✗ ✗ ✗ ✓ ✗ ✗ ✗"],
  ["POST /m/admin/users/roles     set roles",         "✗ ✗ ✗ ✗ ✗ ✓ ✗ ✗ ✗"],
  ["GET  /m/admin/rules           approval rules",    "✗ ✗ ✗ ✗ ✗ ✓ ✗ ✗ ✗"],
  ["POST /m/admin/rules           preview rules",     "✗ ✗ ✗ ✗ ✗ ✓ ✗ ✗ ✗"],
  ["GET  /m/admin/jobs            job runs",          "✗ ✗ ✗ ✗ ✗ ✓ ✗ ✗ ✗"],
  ["GET  /m/admin/outbox          dead messages",     "✗ ✗ ✗ ✗ ✗ ✓ ✗ ✗ ✗"],
  ["POST /m/admin/outbox/retry    retry all",         "✗ ✗ ✗ ✗ ✗ ✓ ✗ ✗ ✗"],
  ["GET  /m/admin/import          import page",       "✗ ✗ ✗ ✗ ✗ ✓ ✗ ✗ ✗"],
  ["GET  /m/admin/export          Excel export",      "✗ ✗ ✗ ✗ ✗ ✓ ✗ ✗ ✗"],
  ["GET  /m/api/customers         customer search",   "✓ ✓ ✗ ✓ ✗ ✓ ✗ ✗ ✗"],
  ["GET  /m/api/products          product search",    "✓ ✓ ✓ ✓ ✓ ✓ ✓ ✗ ✗"],
  ["POST /m/api/quote             price a draft",     "✓ ✓ ✗ ✓ ✗ ✓ ✗ ✗ ✗"],
  ["GET  /m/api/csrf              fresh CSRF token",  "✓ ✓ ✓ ✓ ✓ ✓ ✓ ✗ ✗"],
];

// A signed-in person's session cookie is not an API credential: only a key opens /api/v1.
// prettier-ignore
const API: Array<[string, string]> = [
  //                                                   sales manager finance director warehouse admin purchasing none apikey
  ["GET  /api/v1/orders",                             "✗ ✗ ✗ ✗ ✗ ✗ ✗ ✗ ✓"],
  ["POST /api/v1/orders",                             "✗ ✗ ✗ ✗ ✗ ✗ ✗ ✗ ✓"],
  ["GET  /api/v1/orders/:own",                        "✗ ✗ ✗ ✗ ✗ ✗ ✗ ✗ ✓"],
  ["POST /api/v1/orders/:own/submit",                 "✗ ✗ ✗ ✗ ✗ ✗ ✗ ✗ ✓"],
  ["POST /api/v1/orders/:own/cancel",                 "✗ ✗ ✗ ✗ ✗ ✗ ✗ ✗ ✓"],
  ["POST /api/v1/orders/:pending/approvals",          "✗ ✗ ✗ ✗ ✗ ✗ ✗ ✗ ✓"],
  ["POST /api/v1/orders/:approved/start-picking",     "✗ ✗ ✗ ✗ ✗ ✗ ✗ ✗ ✓"],
  ["POST /api/v1/orders/:picking/picks",              "✗ ✗ ✗ ✗ ✗ ✗ ✗ ✗ ✓"],
  ["POST /api/v1/orders/:picked/pack",                "✗ ✗ ✗ ✗ ✗ ✗ ✗ ✗ ✓"],
  ["POST /api/v1/orders/:packed/shipments",           "✗ ✗ ✗ ✗ ✗ ✗ ✗ ✗ ✓"],
  ["POST /api/v1/orders/:shipped/deliver",            "✗ ✗ ✗ ✗ ✗ ✗ ✗ ✗ ✓"],
  ["POST /api/v1/orders/:approved/payments",          "✗ ✗ ✗ ✗ ✗ ✗ ✗ ✗ ✓"],
  ["GET  /api/v1/products",                           "✗ ✗ ✗ ✗ ✗ ✗ ✗ ✗ ✓"],
  ["PUT  /api/v1/products",                           "✗ ✗ ✗ ✗ ✗ ✗ ✗ ✗ ✓"],
  ["GET  /api/v1/customers",                          "✗ ✗ ✗ ✗ ✗ ✗ ✗ ✗ ✓"],
  ["PUT  /api/v1/customers",                          "✗ ✗ ✗ ✗ ✗ ✗ ✗ ✗ ✓"],
  ["GET  /api/v1/stock/:sku",                         "✗ ✗ ✗ ✗ ✗ ✗ ✗ ✗ ✓"],
  ["PUT  /api/v1/stock/:sku",                         "✗ ✗ ✗ ✗ ✗ ✗ ✗ ✗ ✓"],
];

/** The state an action needs, made fresh for every cell so one role's success never changes another's answer. */
type Fixture = "own" | "other" | "pending" | "approved" | "picking" | "picked" | "packed" | "shipped";

describe("authorization matrix", () => {
  let t: TestApp;
  let server: Awaited<ReturnType<typeof listen>>;
  const people = {} as Record<Exclude<Who, "none" | "apikey">, { id: number; platformUserId: string }>;
  const sessions = {} as Record<string, { cookie: string; csrf: string }>;
  let repB: { id: number };
  let sku = "";
  let customer = "";
  let spare: { platformUserId: string };

  beforeAll(async () => {
    t = await createTestApp();
    const director = await buildUser(t.app, ["director"], null, "周总监");
    const manager = await buildUser(t.app, ["manager"], director.id, "李经理");
    const repA = await buildUser(t.app, ["sales"], manager.id, "王甲");
    repB = await buildUser(t.app, ["sales"], manager.id, "王乙");
    Object.assign(people, {
      sales: repA,
      manager,
      director,
      finance: await buildUser(t.app, ["finance"], director.id, "赵敏"),
      warehouse: await buildUser(t.app, ["warehouse"], null, "陈师傅"),
      admin: await buildUser(t.app, ["admin"], null, "管理员"),
      purchasing: await buildUser(t.app, ["purchasing"], null, "采购"),
    });
    spare = await buildUser(t.app, ["sales"], manager.id, "备用");
    await routeTo(t.app, [manager.id]);
    sku = (await buildProduct(t.app, { onHand: 100_000, listPriceFen: 100 })).sku;
    customer = (await buildCustomer(t.app, { ownerUserId: repA.id })).code;
    server = await listen(t.app);
    for (const [who, p] of Object.entries(people)) sessions[who] = await signIn(p.platformUserId);
  });
  afterAll(async () => {
    await server?.close();
    await t?.close();
  });

  async function signIn(uid: string) {
    const login = await server.send({ method: "GET", path: `/dev/login?u=${encodeURIComponent(uid)}&next=/m` });
    const cookie = String(login.headers["set-cookie"]?.[0] ?? "").split(";")[0];
    const home = await server.send({ method: "GET", path: "/m", headers: { Cookie: cookie } });
    const csrf = /<meta name="csrf-token" content="([^"]+)">/.exec(home.text)?.[1];
    if (!cookie || !csrf) throw new Error(`sign-in of ${uid} failed`);
    return { cookie, csrf };
  }

  const s = () => t.app.services;
  async function fixture(kind: Fixture): Promise<number> {
    const rep = kind === "other" ? repB.id : people.sales.id;
    const order = await s().placeOrder({ customerCode: customer, lines: [{ sku, qty: 2 }], submit: kind !== "own" && kind !== "other", source: "api", salesRepId: rep }, API_ACTOR);
    if (kind === "own" || kind === "other" || kind === "pending") return order.id;
    await s().decideApproval({ orderId: order.id, decision: "approve", comment: null }, { kind: "user", userId: people.manager.id, roles: ["manager"], label: "test" });
    if (kind === "approved") return order.id;
    await s().startPicking({ orderId: order.id }, API_ACTOR);
    if (kind === "picking") return order.id;
    await s().confirmPicked({ orderId: order.id, lines: [{ sku, qty: 2 }] }, API_ACTOR);
    if (kind === "picked") return order.id;
    await s().packOrder({ orderId: order.id }, API_ACTOR);
    if (kind === "packed") return order.id;
    await s().shipOrder({ orderId: order.id, carrier: "顺丰", trackingNo: "SF1234567890" }, API_ACTOR);
    return order.id;
  }

  let seq = 0;
  /** The request one action makes, given a fresh order in the state its path names. */
  function requestFor(action: string, orderId: number | null): { req: RawRequest; form?: Record<string, string>; json?: unknown } {
    const [method, rawPath] = action.trim().split(/\s+/);
    const path = rawPath.replace(/:(own|other|pending|approved|picking|picked|packed|shipped)/, String(orderId)).replace(":sku", encodeURIComponent(sku));
    const req: RawRequest = { method, path };
    seq += 1;
    if (method === "GET") return { req };
    if (path.startsWith("/api/v1/")) {
      const bodies: Array<[RegExp, unknown]> = [
        [/\/orders$/, { customerCode: customer, lines: [{ sku, qty: 1 }] }],
        [/\/submit$/, {}],
        [/\/cancel$/, { reason: "客户取消" }],
        [/\/approvals$/, { decision: "approve", approverId: people.manager.id }],
        [/\/(start-picking|pack|deliver)$/, {}],
        [/\/picks$/, { lines: [{ sku, qty: 2 }] }],
        [/\/shipments$/, { carrier: "顺丰", trackingNo: "SF1234567890" }],
        [/\/payments$/, { amountFen: 100, paidAt: new Date().toISOString() }],
        [/\/products$/, [{ sku: `MX-${seq}`, name: "矩阵商品", listPriceFen: 100 }]],
        [/\/customers$/, [{ code: `MXC-${seq}`, name: "矩阵客户" }]],
        [/\/stock\//, { onHand: 100_000 }],
      ];
      return { req, json: bodies.find(([re]) => re.test(path))?.[1] ?? {} };
    }
    if (path === "/m/api/orders") return { req, json: { idempotencyKey: `matrix-${seq}-key`, customerCode: customer, lines: [{ sku, qty: 1 }] } };
    if (/^\/m\/api\/orders\/\d+$/.test(path)) return { req, json: { expectedVersion: 1, customerCode: customer, lines: [{ sku, qty: 3 }] } };
    if (path === "/m/api/quote") return { req, json: { customerCode: customer, lines: [{ sku, qty: 1 }] } };
    if (path.endsWith("/cancel")) return { req, form: { reason: "客户取消" } };
    if (path.endsWith("/decision")) return { req, form: { decision: "approve" } };
    if (path === "/m/admin/users/roles") return { req, form: { platform: "simulator", platformUserId: spare.platformUserId, roles: "sales" } };
    if (path === "/m/admin/rules") return { req, form: { rules: JSON.stringify({ version: 1, rules: [] }), action: "preview" } };
    if (path === "/m/admin/outbox/retry") return { req, form: { id: "all" } };
    return { req, form: {} };
  }

  async function attempt(who: Who, action: string): Promise<{ status: number; text: string }> {
    const fixtureKind = /:(own|other|pending|approved|picking|picked|packed|shipped)\b/.exec(action)?.[1] as Fixture | undefined;
    const orderId = fixtureKind ? await fixture(fixtureKind) : null;
    const { req, form, json } = requestFor(action, orderId);
    const session = sessions[who];
    // One client address per caller: the refused callers' failed API authentications must not lock the
    // key's caller out (30 failures a minute from one address are refused for the rest of the minute).
    const headers: Record<string, string> = { "X-Forwarded-For": `10.9.0.${COLUMNS.indexOf(who) + 1}` };
    if (session) headers.Cookie = session.cookie;
    if (who === "apikey") Object.assign(headers, t.apiKeyHeader);
    if (json !== undefined) {
      headers["Content-Type"] = "application/json";
      if (session && req.path.startsWith("/m/")) headers["X-CSRF-Token"] = session.csrf;
      req.body = JSON.stringify(json);
    } else if (form !== undefined) {
      headers["Content-Type"] = "application/x-www-form-urlencoded";
      req.body = new URLSearchParams({ ...form, ...(session ? { _csrf: session.csrf } : {}) }).toString();
    }
    const res = await server.send({ ...req, headers });
    return { status: res.status, text: res.text };
  }

  const parseRow = (cells: string) => cells.trim().split(/\s+/) as Cell[];

  async function check(table: Array<[string, string]>, title: string) {
    const wrong: string[] = [];
    const disputed: string[] = [];
    const printed: string[] = [`${title}\n${"".padEnd(48)} ${COLUMNS.map((c) => c.slice(0, 5).padStart(6)).join("")}`];
    for (const [action, cells] of table) {
      const expected = parseRow(cells);
      expect(expected).toHaveLength(COLUMNS.length);
      const got: string[] = [];
      for (const [i, who] of COLUMNS.entries()) {
        const res = await attempt(who, action);
        const allowed = res.status >= 200 && res.status < 400;
        const refused = res.status === 401 || res.status === 403;
        const want = expected[i];
        const ok = want === "✗" ? refused : allowed;
        got.push(allowed ? (want === "!" ? "!" : "✓") : refused ? "✗" : `${res.status}`);
        if (!ok) wrong.push(`${action.replace(/\s+/g, " ")} as ${who}: expected ${want}, got ${res.status} ${res.text.replace(/\s+/g, " ").slice(0, 160)}`);
        if (want === "!" && allowed) disputed.push(`${action.replace(/\s+/g, " ")} as ${who}`);
      }
      printed.push(`${action.padEnd(48)} ${got.map((g) => g.padStart(6)).join("")}${got.some((g, i) => g !== expected[i]) ? "   ← differs" : ""}`);
    }
    const cells = table.length * COLUMNS.length;
    printed.push(`${table.length} actions × ${COLUMNS.length} callers = ${cells} cells; differing from the table = ${wrong.length}; allowed though the product rule says refuse (!) = ${disputed.length}`);
    for (const d of disputed) printed.push(`  ! ${d}`);
    console.log(printed.join("\n"));
    expect(wrong).toEqual([]);
  }

  it("mini-app: every role × every page and form action", async () => {
    await check(MINI_APP, "authorization matrix, mini-app (/m)");
  });

  it("REST API: only an API key opens /api/v1, whoever is signed in", async () => {
    await check(API, "authorization matrix, REST API (/api/v1)");
  });
});

// Roles the matrix covers must be every role the product has.
test("the matrix has a column for every role", () => {
  for (const role of ROLES) expect(COLUMNS).toContain(role);
});
