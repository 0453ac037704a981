import { DEFAULT_RULE_SET } from "../../src/domain/approval-rules";
import { recordJobFinished, recordJobStarted } from "../../src/services/job-runs";
import { buildTeam, buildUser } from "../helpers/factories";
import { refusalCode, signInAs } from "../helpers/miniapp";
import { createTestApp, type TestApp } from "../helpers/test-app";

describe("mini-app admin: dead outbox messages, users and roles, approval rules", () => {
  let t: TestApp;
  let admin: Awaited<ReturnType<typeof buildUser>>;
  let team: Awaited<ReturnType<typeof buildTeam>>;
  beforeAll(async () => {
    t = await createTestApp();
    admin = await buildUser(t.app, ["admin"], null, "管理员甲");
    team = await buildTeam(t.app);
  });
  afterAll(() => t.close());

  const deadMessage = (key: string) =>
    t.app.db.models.Outbox.create({ topic: "wecom.message", payload: { to: "x" }, dedupeKey: key, status: "dead", attempts: 8, nextAttemptAt: new Date(), lastError: "errcode 60020 ip not allowed" });

  it("refuses every admin page and action to non-admins and keeps the entry off their tab bar", async () => {
    const dead = await deadMessage("refused-1");
    for (const user of [team.rep, team.manager, team.director, await buildUser(t.app, ["warehouse"])]) {
      const { agent, csrf } = await signInAs(t, user);
      for (const path of ["/m/admin", "/m/admin/outbox", "/m/admin/users", "/m/admin/rules", "/m/admin/jobs"]) {
        const res = await agent.get(path);
        expect(res.status).toBe(403);
        expect(refusalCode(res.text)).toBe("forbidden");
      }
      expect((await agent.post("/m/admin/outbox/retry").type("form").send({ _csrf: csrf, id: String(dead.id) })).status).toBe(403);
      expect((await agent.post("/m/admin/users/roles").type("form").send({ _csrf: csrf, platform: "simulator", platformUserId: team.rep.platformUserId, roles: "admin" })).status).toBe(403);
      expect((await agent.post("/m/admin/rules").type("form").send({ _csrf: csrf, rules: JSON.stringify(DEFAULT_RULE_SET), action: "save" })).status).toBe(403);
      expect((await agent.get("/m")).text).not.toContain('href="/m/admin"');
    }
    await dead.reload();
    expect(dead.status).toBe("dead");
    expect((await t.app.db.models.User.findByPk(team.rep.id))?.roles).toEqual(["sales"]);
    expect(await t.app.db.models.RuleSet.count()).toBe(0);
  });

  it("lists dead messages with their error and queues one, or all, again; a POST without CSRF changes nothing", async () => {
    const [a, b] = [await deadMessage("dead-a"), await deadMessage("dead-b")];
    const { agent, csrf } = await signInAs(t, admin);
    expect((await agent.get("/m")).text).toContain('href="/m/admin"');
    const list = await agent.get("/m/admin/outbox");
    expect(list.status).toBe(200);
    expect(list.text).toContain("dead-a");
    expect(list.text).toContain("errcode 60020");
    expect((await agent.post("/m/admin/outbox/retry").type("form").send({ id: String(a.id) })).status).toBe(403);
    expect((await a.reload()).status).toBe("dead");
    const one = await agent.post("/m/admin/outbox/retry").type("form").send({ _csrf: csrf, id: String(a.id) });
    expect(one.status).toBe(302);
    expect(one.headers.location).toBe("/m/admin/outbox?retried=1");
    await a.reload();
    expect([a.status, a.attempts, a.lastError]).toEqual(["pending", 0, null]);
    expect((await b.reload()).status).toBe("dead");
    expect((await agent.get("/m/admin/outbox?retried=1")).text).toContain("已重新排队 1 条消息");
    const bad = await agent.post("/m/admin/outbox/retry").type("form").send({ _csrf: csrf, id: "1 OR 1=1" });
    expect(bad.status).toBe(422);
    await agent.post("/m/admin/outbox/retry").type("form").send({ _csrf: csrf, id: "all" });
    expect(await t.app.db.models.Outbox.count({ where: { status: "dead" } })).toBe(0);
  });

  it("sets a user's roles, refuses an unknown role or dropping one's own admin role with nothing changed", async () => {
    const { agent, csrf } = await signInAs(t, admin);
    const page = await agent.get("/m/admin/users");
    expect(page.status).toBe(200);
    expect(page.text).toContain("王小明");
    const set = await agent.post("/m/admin/users/roles").type("form").send({ _csrf: csrf, platform: "simulator", platformUserId: team.rep.platformUserId, roles: ["sales", "warehouse"] });
    expect(set.status).toBe(302);
    expect((await t.app.db.models.User.findByPk(team.rep.id))?.roles).toEqual(["sales", "warehouse"]);
    const unknown = await agent.post("/m/admin/users/roles").type("form").send({ _csrf: csrf, platform: "simulator", platformUserId: team.rep.platformUserId, roles: ["sales", "king"] });
    expect(unknown.status).toBe(422);
    expect((await t.app.db.models.User.findByPk(team.rep.id))?.roles).toEqual(["sales", "warehouse"]);
    const self = await agent.post("/m/admin/users/roles").type("form").send({ _csrf: csrf, platform: "simulator", platformUserId: admin.platformUserId, roles: ["sales"] });
    expect(self.status).toBe(422);
    expect(self.text).toContain("不能取消自己的管理员角色");
    expect((await t.app.db.models.User.findByPk(admin.id))?.roles).toEqual(["admin"]);
  });

  it("previews sample routes without saving, refuses bad JSON or rules with the reason and the text kept, and saves valid rules", async () => {
    const { agent, csrf } = await signInAs(t, admin);
    const editor = await agent.get("/m/admin/rules");
    expect(editor.status).toBe(200);
    expect(editor.text).toContain("manager-review");
    expect(editor.text).toContain("自动通过"); // the small sample order under the default rules

    const financeAll = { version: 1, rules: [{ id: "all-finance", name: "全部财务审批", when: { any: [{ type: "always" }] }, step: { order: 10, label: "财务复核", approvers: { type: "role", role: "finance" }, mode: "any" } }] };
    const preview = await agent.post("/m/admin/rules").type("form").send({ _csrf: csrf, rules: JSON.stringify(financeAll), action: "preview" });
    expect(preview.status).toBe(200);
    expect(preview.text).toContain("预览结果（尚未保存）");
    expect(preview.text.match(/财务复核/g)?.length).toBeGreaterThanOrEqual(4);
    expect(await t.app.db.models.RuleSet.count()).toBe(0);

    const badJson = await agent.post("/m/admin/rules").type("form").send({ _csrf: csrf, rules: "{ version: 1", action: "save" });
    expect(badJson.status).toBe(422);
    expect(badJson.text).toContain("JSON 格式错误");
    expect(badJson.text).toContain("{ version: 1");
    const badRule = { ...financeAll, rules: [{ ...financeAll.rules[0], step: { ...financeAll.rules[0].step, approvers: { type: "role", role: "king" } } }] };
    const invalid = await agent.post("/m/admin/rules").type("form").send({ _csrf: csrf, rules: JSON.stringify(badRule), action: "save" });
    expect(invalid.status).toBe(422);
    expect(invalid.text).toContain("规则无效，未做任何更改");
    expect(invalid.text).toContain("rules.0.step.approvers.role");
    expect(await t.app.db.models.RuleSet.count()).toBe(0);

    const saved = await agent.post("/m/admin/rules").type("form").send({ _csrf: csrf, rules: JSON.stringify(financeAll), action: "save" });
    expect(saved.status).toBe(302);
    expect((await t.app.services.getActiveRuleSet()).rules[0].id).toBe("all-finance");
    expect((await agent.get("/m/admin/rules?done=saved")).text).toContain("新规则已启用");
  });
  it("shows each scheduled job's last run, its duration and outcome, and the failure's reason", async () => {
    const { agent } = await signInAs(t, admin);
    expect((await agent.get("/m/admin/jobs")).text).toContain("还没有任务运行过");
    const at = new Date();
    await recordJobStarted(t.app.deps, { name: "low-stock", at, instance: "i1" });
    await recordJobFinished(t.app.deps, { name: "low-stock", at, durationMs: 42, ok: true });
    await recordJobStarted(t.app.deps, { name: "receivables", at, instance: "i1" });
    await recordJobFinished(t.app.deps, { name: "receivables", at, durationMs: 7, ok: false, error: "database went away" });
    const page = (await agent.get("/m/admin/jobs")).text;
    expect(page).toMatch(/data-job="low-stock" data-outcome="ok"[\s\S]*用时 42 毫秒[\s\S]*共 1 次，失败 0 次/);
    expect(page).toMatch(/data-job="receivables" data-outcome="failed"[\s\S]*database went away/);
    expect((await agent.get("/m/admin")).text).toContain('href="/m/admin/jobs"');
  });

  it("renders every admin page in English too", async () => {
    const { agent } = await signInAs(t, admin);
    await agent.get("/m/lang").query({ to: "en", next: "/m/admin" });
    for (const [path, text] of [["/m/admin", "Approval rules"], ["/m/admin/outbox", "Dead outbox messages"], ["/m/admin/users", "Save roles"], ["/m/admin/rules", "Save and activate"], ["/m/admin/import", "Download Excel"]]) {
      const res = await agent.get(path);
      expect(res.status).toBe(200);
      expect(res.text).toContain(text);
    }
  });
});
