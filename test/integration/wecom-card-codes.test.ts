import { createMemoryCache } from "../../src/cache/memory";
import { createCardCodeStore } from "../../src/channels/wecom/card-code-store";
import { createCardCodes, type CardCodes } from "../../src/channels/wecom/card-codes";
import { API_ACTOR, buildCustomer, buildProduct } from "../helpers/factories";
import { createTestApp, type TestApp } from "../helpers/test-app";
import { testWecomConfig } from "../helpers/wecom";

/**
 * card_refs as the record of WeCom update codes (wecom.md 5.4, gotcha 10): each code is used once, only
 * while it is young enough, by whichever instance gets it first, and what one instance knows survives
 * its cache. Each "instance" here has a memory cache of its own and shares the database.
 */
describe("WeCom card codes kept in card_refs", () => {
  const config = testWecomConfig();
  const HOUR = 60 * 60 * 1000;
  const now = new Date();
  const ago = (ms: number) => new Date(now.getTime() - ms);
  let t: TestApp;
  let seq = 0;
  let orderId: number;

  beforeAll(async () => {
    t = await createTestApp();
    const [product, customer] = await Promise.all([buildProduct(t.app, { onHand: 10 }), buildCustomer(t.app)]);
    const order = await t.app.services.placeOrder({ customerCode: customer.code, lines: [{ sku: product.sku, qty: 1 }], source: "api" }, API_ACTOR);
    orderId = order.id;
  });
  afterAll(async () => {
    await t.close();
  });

  /** An instance: its own in-memory cache, the shared database. */
  const instance = (): CardCodes => createCardCodes(config, createMemoryCache(), createCardCodeStore(t.app.db));

  /** A WeCom card sent to lisi `sentAgo` ago, with the code its send came with. */
  async function card(sentAgo = 0): Promise<{ taskId: string; claim: Parameters<CardCodes["claim"]>[0] }> {
    const taskId = `co-codes-${++seq}`;
    const sentAt = ago(sentAgo);
    await t.app.db.models.CardRef.create({
      orderId,
      stepId: null,
      kind: "preview",
      platform: "wecom",
      userId: null,
      platformRef: { task_id: taskId, userid: "lisi", card_type: "button_interaction", response_code: `RC-send-${seq}`, sent_at: sentAt.toISOString() },
      taskId,
    });
    return { taskId, claim: { taskId, userId: "lisi", sendCode: `RC-send-${seq}`, sentAt } };
  }

  const stored = async (taskId: string) => (await t.app.db.models.CardRef.findOne({ where: { taskId } }))!;

  it("spends each code once across instances: the newest tap's, then the send's, then none", async () => {
    const { taskId, claim } = await card();
    const a = instance();
    const b = instance();
    await a.record({ taskId, userId: "LiSi", code: "RC-tap" }, ago(1000)); // userids compare case-insensitively
    const got = await Promise.all([a.claim(claim, now), b.claim(claim, now)]);
    expect(got.sort()).toEqual([claim.sendCode, "RC-tap"].sort());
    expect(await b.claim(claim, now)).toBeNull();
    expect(await instance().claim(claim, now)).toBeNull(); // a fresh cache knows no more
    expect(await stored(taskId)).toMatchObject({ responseCode: "RC-tap", codeUsedAt: expect.any(Date), sendCodeUsedAt: expect.any(Date) });

    // The same tap recorded again (the bot handling a redelivered event) does not make it unused.
    await a.record({ taskId, userId: "lisi", code: "RC-tap" }, ago(1000));
    expect(await instance().claim(claim, now)).toBeNull();
  });

  it("keeps only the newest tap, and only its recipient's", async () => {
    const { taskId, claim } = await card();
    const codes = instance();
    await codes.record({ taskId, userId: "lisi", code: "RC-new" }, ago(1000));
    await codes.record({ taskId, userId: "lisi", code: "RC-older" }, ago(2000)); // arrived late: ignored
    await codes.record({ taskId, userId: "zhangsan", code: "RC-stranger" }, ago(500)); // not this card's reader
    expect(await stored(taskId)).toMatchObject({ responseCode: "RC-new", codeUsedAt: null });
    expect(await instance().claim(claim, now)).toBe("RC-new");
  });

  it("uses a tap the cache holds before the bot has recorded it, and records it as spent", async () => {
    const { taskId, claim } = await card();
    const codes = instance();
    await codes.record({ taskId, userId: "lisi", code: "RC-first" }, ago(5000));
    await codes.remember({ taskId, userId: "lisi", code: "RC-second" }, ago(1000)); // answered, not yet handled
    expect(await codes.claim(claim, now)).toBe("RC-second");
    expect(await stored(taskId)).toMatchObject({ responseCode: "RC-second", codeUsedAt: expect.any(Date) });
    // The bot's record of it, when it comes, changes nothing; the older tap's code was superseded.
    await codes.record({ taskId, userId: "lisi", code: "RC-second" }, ago(1000));
    expect(await instance().claim(claim, now)).toBe(claim.sendCode);
    expect(await instance().claim(claim, now)).toBeNull();
  });

  it("never uses a code older than 24 h (wecom.md 5.4: 72 h in current docs, 24 h in older ones)", async () => {
    const { taskId, claim } = await card(25 * HOUR);
    await instance().record({ taskId, userId: "lisi", code: "RC-stale" }, ago(24 * HOUR + 1000));
    expect(await instance().claim(claim, now)).toBeNull();
    expect(await stored(taskId)).toMatchObject({ codeUsedAt: null, sendCodeUsedAt: null });
  });
});
