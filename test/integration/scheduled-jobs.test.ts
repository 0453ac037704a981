import { buildCustomer, buildProduct, buildTeam, buildUser, API_ACTOR } from "../helpers/factories";
import { fakeClock, noApprovals, outboxRows } from "../helpers/jobs";
import { createTestApp, type TestApp } from "../helpers/test-app";

describe("receivables, daily digest, low stock and housekeeping jobs (fake clock)", () => {
  const clock = fakeClock("2026-01-31T15:00:00+08:00");
  let t: TestApp;
  let team: Awaited<ReturnType<typeof buildTeam>>;
  beforeAll(async () => {
    t = await createTestApp({ now: clock.now });
    team = await buildTeam(t.app);
    await noApprovals(t.app);
  });
  afterAll(() => t.close());

  const run = (name: string) => t.app.jobRunner({ schedule: false }).runNow(name) as Promise<Record<string, unknown>>;

  async function deliveredOrder(opts: { qty?: number; onHand?: number; safety?: number } = {}) {
    const product = await buildProduct(t.app, { onHand: opts.onHand ?? 100, listPriceFen: 1000 });
    if (opts.safety) await t.app.services.setStock({ sku: product.sku, onHand: opts.onHand ?? 100, safetyStock: opts.safety }, API_ACTOR);
    const customer = await buildCustomer(t.app, { ownerUserId: team.rep.id });
    const s = t.app.services;
    const order = await s.placeOrder({ customerCode: customer.code, lines: [{ sku: product.sku, qty: opts.qty ?? 5 }], source: "api", submit: true, salesRepId: team.rep.id }, API_ACTOR);
    await s.startPicking({ orderId: order.id }, API_ACTOR);
    await s.packOrder({ orderId: order.id }, API_ACTOR);
    await s.shipOrder({ orderId: order.id, carrier: "顺丰", trackingNo: `SF${order.id}` }, API_ACTOR);
    await s.deliverOrder({ orderId: order.id }, API_ACTOR);
    return { order, product, customer };
  }

  it("tells the rep of an overdue order from the day after its due day, and the manager after 15 days", async () => {
    clock.set("2026-01-31T15:00:00+08:00");
    const { order } = await deliveredOrder();
    const row = (await t.app.db.models.Order.findByPk(order.id))!;
    expect(row.dueAt?.toISOString()).toBe(new Date("2026-03-03T00:00:00+08:00").toISOString());

    clock.set("2026-03-02T09:30:00+08:00");
    expect(await run("receivables")).toMatchObject({ orders: 0 });
    clock.set("2026-03-03T09:30:00+08:00");
    expect(await run("receivables")).toMatchObject({ reps: 1, managers: 0, orders: 1 });
    const repCard = (await outboxRows(t.app, "chat.card")).find((r) => r.dedupeKey === `chat.card:receivables:20260303:${team.rep.id}`);
    expect(JSON.stringify(repCard?.payload.card)).toContain(order.orderNo);
    expect(JSON.stringify(repCard?.payload.card)).toContain("逾期 1 天");

    clock.set("2026-03-19T09:30:00+08:00"); // 17 days late
    expect(await run("receivables")).toMatchObject({ reps: 1, managers: 1 });
    const teamCard = (await outboxRows(t.app, "chat.card")).find((r) => r.dedupeKey === `chat.card:receivables-team:20260319:${team.manager.id}`);
    expect(JSON.stringify(teamCard?.payload.card)).toContain("¥50.00");

    // Paid: no longer overdue.
    await t.app.services.recordPayment({ orderId: order.id, amountFen: 5000, paidAt: clock.now() }, API_ACTOR);
    clock.set("2026-03-20T09:30:00+08:00");
    expect(await run("receivables")).toMatchObject({ orders: 0 });
  });

  it("alerts purchasing with a reorder suggestion at most once per sku per day", async () => {
    clock.set("2026-04-01T10:00:00+08:00");
    const buyer = await buildUser(t.app, ["purchasing"], null, "采购小刘");
    const { product } = await deliveredOrder({ qty: 60, onHand: 100, safety: 50 }); // 40 left, 60 shipped in 30 days
    const first = await run("low-stock");
    expect(first).toMatchObject({ alerted: 1 });
    const card = (await outboxRows(t.app, "chat.card")).find((r) => r.dedupeKey.startsWith(`chat.card:low-stock:20260401:${buyer.id}:`))?.payload.card as { lines: Array<{ sku: string; qty: string }> };
    // 60 / 30 days × 7 days lead + 50 safety − 40 available = 24.
    expect(card.lines.find((l) => l.sku === product.sku)?.qty).toBe("建议补货 24");
    clock.set("2026-04-01T15:00:00+08:00");
    expect(await run("low-stock")).toMatchObject({ alerted: 0 });
    clock.set("2026-04-02T10:00:00+08:00");
    expect(await run("low-stock")).toMatchObject({ alerted: 1 });
  });

  it("sends managers the daily digest at 09:00 with yesterday's figures and a dashboard link", async () => {
    clock.set("2026-05-11T14:00:00+08:00");
    await deliveredOrder({ qty: 2 });
    clock.set("2026-05-12T09:00:00+08:00");
    expect(await run("daily-digest")).toMatchObject({ day: "2026-05-11", orders: 1 });
    const digest = (await outboxRows(t.app, "chat.card")).find((r) => r.dedupeKey === `chat.card:daily-digest:2026-05-11:${team.manager.id}`);
    const card = digest?.payload.card as { fields: Array<{ label: string; value: string }>; link: { path: string } };
    expect(card.link.path).toBe("/m/dashboard");
    expect(card.fields.find((f) => f.label === "昨日金额")?.value).toBe("¥20.00");
    expect(card.fields.find((f) => f.label === "昨日发货")?.value).toBe("1");
  });

  it("archives drafts untouched for 30 days and deletes sent outbox rows and handled inbound keys past retention", async () => {
    clock.set("2026-06-01T10:00:00+08:00");
    const product = await buildProduct(t.app, { onHand: 10 });
    const customer = await buildCustomer(t.app, { ownerUserId: team.rep.id });
    const stale = await t.app.services.placeOrder({ customerCode: customer.code, lines: [{ sku: product.sku, qty: 1 }], source: "api" }, API_ACTOR);
    const m = t.app.db.models;
    await m.Outbox.update({ status: "sent", sentAt: clock.now() }, { where: {} });
    await m.InboundEvent.create({ platform: "simulator", eventKey: "old-1", kind: "text", payload: "{}" as never, status: "processed", receivedAt: clock.now() } as never);
    clock.set("2026-06-20T10:00:00+08:00");
    const fresh = await t.app.services.placeOrder({ customerCode: customer.code, lines: [{ sku: product.sku, qty: 1 }], source: "api" }, API_ACTOR);
    clock.set("2026-07-02T02:30:00+08:00");
    const result = await run("housekeeping");
    expect(result.archived).toBe(1);
    expect((await m.Order.findByPk(stale.id))?.status).toBe("archived");
    expect((await m.Order.findByPk(fresh.id))?.status).toBe("draft");
    expect(result.outbox).toBeGreaterThan(0);
    expect(result.inbound).toBe(1);
    expect(await m.Outbox.count({ where: { status: "sent" } })).toBe(0);
    // The archive itself is audited and its outbox rows are new (pending), so nothing it wrote was purged.
    expect(await m.AuditEvent.count({ where: { entity: "order", entityId: String(stale.id), action: "archive" } })).toBe(1);
  });
});
