import crypto from "node:crypto";
import nock from "nock";
import { runCli } from "../../src/cli";
import type { Role } from "../../src/domain/roles";
import { createTestApp, type TestApp } from "../helpers/test-app";

describe("npm run cli -- users", () => {
  let t: TestApp;
  const saved = { ...process.env };
  const uid = () => crypto.randomBytes(4).toString("hex");
  const makeUser = (platform: string, platformUserId: string, roles: Role[] = [], name = platformUserId) =>
    t.app.db.models.User.create({ platform, platformUserId, name, mobile: null, roles, managerId: null, department: null });

  /** Runs the CLI against the test app's database (and Redis prefix), capturing what it prints. */
  async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = "";
    let err = "";
    const stdout = jest.spyOn(process.stdout, "write").mockImplementation((chunk) => ((out += String(chunk)), true));
    const stderr = jest.spyOn(process.stderr, "write").mockImplementation((chunk) => ((err += String(chunk)), true));
    try {
      const code = await runCli(argv);
      return { code, out, err };
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
  }

  beforeAll(async () => {
    t = await createTestApp();
    const { config } = t.app;
    Object.assign(process.env, {
      NODE_ENV: "test",
      LOG_LEVEL: "silent",
      DATABASE_URL: config.database.url,
      CACHE_KEY_PREFIX: config.cacheKeyPrefix,
      // WeCom on, with a role map: for the note about mapped roles, and to look up members not met yet.
      WECOM_CORP_ID: "ww0123456789abcdef",
      WECOM_AGENT_ID: "1000002",
      WECOM_SECRET: "test-secret",
      WECOM_TOKEN: "TestToken123",
      WECOM_AES_KEY: "A".repeat(43),
      WECOM_API_BASE: "https://wecom.test",
      WECOM_ROLE_MAP: "tag:1=sales,dept:5=warehouse",
    });
    if (config.redisUrl) process.env.REDIS_URL = config.redisUrl;
  });
  afterAll(async () => {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
    await t.close();
  });

  it("sets a user's roles, prints the result and audits who did it", async () => {
    const u = await makeUser("simulator", `cli-${uid()}`, ["sales"], "王小明");
    const res = await cli("users", "set-roles", "--platform", "simulator", "--user", u.platformUserId, "--roles", "manager, sales,manager");
    expect(res).toMatchObject({ code: 0, err: "" });
    expect(res.out).toBe(`roles set: #${u.id}  simulator  ${u.platformUserId}  王小明  sales,manager\n`);
    expect((await u.reload()).roles).toEqual(["sales", "manager"]);
    const audit = await t.app.db.models.AuditEvent.findOne({ where: { entity: "user", entityId: String(u.id), action: "roles_set" } });
    expect(audit).toMatchObject({ actor: expect.stringMatching(/^cli:/), before: { roles: ["sales"] }, after: { roles: ["sales", "manager"] } });

    const again = await cli("users", "set-roles", "--platform", "simulator", "--user", u.platformUserId, "--roles", "sales,manager");
    expect(again.out).toMatch(/^roles unchanged: /);
    expect(await t.app.db.models.AuditEvent.count({ where: { entity: "user", entityId: String(u.id) } })).toBe(1);
  });

  it("clears roles with an empty list, and warns that mapped roles of a WeCom user follow WECOM_ROLE_MAP", async () => {
    const u = await makeUser("wecom", `cli-${uid()}`, ["sales", "finance"]);
    const res = await cli("users", "set-roles", "--platform", "wecom", "--user", u.platformUserId, "--roles", "");
    expect(res.code).toBe(0);
    expect(res.out).toContain("(no roles)");
    expect((await u.reload()).roles).toEqual([]);
    expect(res.out).toContain("note: sales, warehouse follow WECOM_ROLE_MAP for WeCom users");
    const sim = await makeUser("simulator", `cli-${uid()}`);
    expect((await cli("users", "set-roles", "--platform", "simulator", "--user", sim.platformUserId, "--roles", "sales")).out).not.toContain("note:");
  });

  it.each([
    [["--platform", "simulator", "--user", "USER", "--roles", "sales,boss"], 1, /unknown role boss; roles are sales, manager, finance, director, warehouse, admin/],
    [["--platform", "slack", "--user", "USER", "--roles", "sales"], 1, /unknown platform slack; platforms are wecom, dingtalk, simulator/],
    [["--platform", "simulator", "--user", "USER"], 2, /users set-roles needs --platform <p> --user <platform user id> --roles/],
    [[], 2, /users set-roles needs/],
  ])("refuses %p with exit %p and changes nothing", async (args, code, message) => {
    const u = await makeUser("simulator", `cli-${uid()}`, ["sales"]);
    const res = await cli("users", "set-roles", ...args.map((a) => (a === "USER" ? u.platformUserId : a)));
    expect(res.code).toBe(code);
    expect(res.err).toMatch(message);
    expect((await u.reload()).roles).toEqual(["sales"]);
    expect(await t.app.db.models.AuditEvent.count({ where: { entity: "user", entityId: String(u.id) } })).toBe(0);
  });

  it("exits 1 naming an unknown user, and says what to do when the platform is not configured here", async () => {
    const res = await cli("users", "set-roles", "--platform", "dingtalk", "--user", "nobody", "--roles", "sales");
    expect(res).toMatchObject({ code: 1, out: "" });
    expect(res.err).toBe(
      "chatorder: no dingtalk user nobody. ChatOrder adds a user when they first message the bot or sign in to the mini-app; " +
        "to set roles before that, run this command with DingTalk configured (the same DINGTALK_* settings as the server), and the member is looked up in the DingTalk directory.\n",
    );
  });

  describe("a WeCom member who has never messaged the bot", () => {
    const API = "https://wecom.test";
    const ok = (body: Record<string, unknown> = {}) => ({ errcode: 0, errmsg: "ok", ...body });
    // A CLI run fetches a token unless an earlier run left one in the shared cache (Redis, under test:mysql).
    const wecom = () => nock(API).get("/cgi-bin/gettoken").query(true).optionally().reply(200, ok({ access_token: "T", expires_in: 7200 }));

    beforeAll(() => {
      nock.disableNetConnect();
      nock.enableNetConnect(/127\.0\.0\.1|localhost/);
    });
    afterAll(() => {
      nock.cleanAll();
      nock.enableNetConnect();
    });

    it("is looked up in the WeCom directory (user/get) and created with their leader, then given the roles", async () => {
      const me = `pre-${uid()}`;
      const boss = `boss-${uid()}`;
      const scope = wecom()
        .get("/cgi-bin/user/get").query({ access_token: "T", userid: me })
        .reply(200, ok({ userid: me, name: "预先", department: [9], main_department: 9, direct_leader: [boss], status: 1 }))
        // WECOM_ROLE_MAP tag:1=sales,dept:5=warehouse: tag 1 lists them, department 5 does not hold 9.
        .get("/cgi-bin/tag/get").query({ access_token: "T", tagid: "1" }).reply(200, ok({ userlist: [{ userid: me }], partylist: [] }))
        .get("/cgi-bin/department/simplelist").query({ access_token: "T", id: "5" }).reply(200, ok({ department_id: [{ id: 5, parentid: 1 }] }))
        .get("/cgi-bin/department/get").query({ access_token: "T", id: "9" }).reply(200, ok({ department: { id: 9, name: "华北销售" } }))
        .get("/cgi-bin/user/get").query({ access_token: "T", userid: boss })
        .reply(200, ok({ userid: boss, name: "老板", department: [9], status: 1 }));
      const res = await cli("users", "set-roles", "--platform", "wecom", "--user", me, "--roles", "sales,manager");
      expect(scope.isDone()).toBe(true);
      expect(res).toMatchObject({ code: 0, err: "" });
      const m = t.app.db.models;
      const leader = await m.User.findOne({ where: { platform: "wecom", platformUserId: boss } });
      const user = await m.User.findOne({ where: { platform: "wecom", platformUserId: me } });
      expect(leader).toMatchObject({ name: "老板", roles: [], active: true });
      expect(user).toMatchObject({ name: "预先", department: "华北销售", managerId: leader!.id, roles: ["sales", "manager"], active: true });
      expect(res.out).toContain(`roles set: #${user!.id}  wecom  ${me}  预先  sales,manager\n`);
      const audit = await m.AuditEvent.findAll({ where: { entity: "user", entityId: String(user!.id) }, order: [["id", "ASC"]] });
      // Created as a first contact creates them (the mapped sales), then the roles given here.
      expect(audit.map((a) => [a.action, a.actor, a.after])).toEqual([
        ["created", expect.stringMatching(/^cli:/), expect.objectContaining({ roles: ["sales"] })],
        ["roles_set", expect.stringMatching(/^cli:/), { roles: ["sales", "manager"] }],
      ]);
    });

    it("exits 1 naming a userid WeCom does not know (60111), and creates nothing", async () => {
      const ghost = `ghost-${uid()}`;
      const scope = wecom().get("/cgi-bin/user/get").query({ access_token: "T", userid: ghost }).reply(200, { errcode: 60111, errmsg: "userid not found" });
      const res = await cli("users", "set-roles", "--platform", "wecom", "--user", ghost, "--roles", "sales");
      expect(scope.isDone()).toBe(true);
      expect(res).toMatchObject({ code: 1, out: "", err: `chatorder: wecom user ${ghost} is not in the directory\n` });
      expect(await t.app.db.models.User.count({ where: { platform: "wecom", platformUserId: ghost } })).toBe(0);
    });

    it("validates the roles before asking WeCom anything", async () => {
      const res = await cli("users", "set-roles", "--platform", "wecom", "--user", `new-${uid()}`, "--roles", "boss");
      expect(res.code).toBe(1);
      expect(res.err).toMatch(/unknown role boss/);
    });
  });

  it("lists users, optionally of one platform", async () => {
    const w = await makeUser("wecom", `list-${uid()}`, ["warehouse"], "陈师傅");
    const s = await makeUser("simulator", `list-${uid()}`, [], "赵敏");
    await s.update({ active: false });
    const all = await cli("users", "list");
    expect(all.code).toBe(0);
    expect(all.out).toContain(`#${w.id}  wecom  ${w.platformUserId}  陈师傅  warehouse\n`);
    expect(all.out).toContain(`#${s.id}  simulator  ${s.platformUserId}  赵敏  (no roles)  inactive\n`);
    const wecom = await cli("users", "list", "--platform", "wecom");
    expect(wecom.out).toContain(w.platformUserId);
    expect(wecom.out).not.toContain(s.platformUserId);
    expect((await cli("users", "list", "--platform", "icq")).code).toBe(1);
    expect((await cli("users", "promote")).code).toBe(2);
  });
  it("outbox: lists dead messages and queues one or all again (the services the admin page uses)", async () => {
    const dead = (key: string) => t.app.db.models.Outbox.create({ topic: "wecom.message", payload: {}, dedupeKey: key, status: "dead", attempts: 8, nextAttemptAt: new Date(), lastError: "boom" });
    const a = await dead(`cli-a-${uid()}`);
    const b = await dead(`cli-b-${uid()}`);
    const list = await cli("outbox", "list");
    expect(list.code).toBe(0);
    expect(list.out).toContain(`#${a.id}  wecom.message  attempts=8  ${a.dedupeKey}\n    boom\n`);
    expect((await cli("outbox", "list", "--status", "lost")).code).toBe(2);
    expect((await cli("outbox", "retry", String(a.id))).out).toBe("1 message(s) queued again\n");
    expect((await a.reload()).status).toBe("pending");
    expect((await b.reload()).status).toBe("dead");
    expect((await cli("outbox", "retry", "--dead")).out).toBe("1 message(s) queued again\n");
    expect((await b.reload()).status).toBe("pending");
    expect((await cli("outbox", "retry", "x")).code).toBe(2);
  });
});
