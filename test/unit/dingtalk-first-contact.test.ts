import type { Logger } from "pino";
import { createFirstContact, FIRST_CONTACT_TTL_MS } from "../../src/channels/dingtalk/refresh";
import type { DingtalkDirectory } from "../../src/channels/dingtalk/directory";
import type { ServiceDeps } from "../../src/services/deps";

/** First contact over Stream (refresh.ts): a known member costs no query; an entry older than the TTL is asked again. */
describe("DingTalk first contact", () => {
  function setup(rows: Record<string, boolean>) {
    let now = 1_000_000;
    const findOne = jest.fn(async ({ where }: { where: { platformUserId: string } }) =>
      rows[where.platformUserId] ? { id: 1, platform: "dingtalk", platformUserId: where.platformUserId, name: "x", mobile: null, roles: [], managerId: null, department: null, active: true } : null,
    );
    const serviceDeps = { db: { models: { User: { findOne } } } } as unknown as ServiceDeps;
    const lookup = jest.fn(async (userid: string) => ({ platform: "dingtalk" as const, platformUserId: userid, found: false as const }));
    const directory = { lookup, managedRoles: [] } as unknown as DingtalkDirectory;
    const warn = jest.fn();
    const log = { warn } as unknown as Logger;
    const firstContact = createFirstContact({ serviceDeps, directory, log, clock: () => now });
    return { firstContact, findOne, lookup, warn, advance: (ms: number) => (now += ms) };
  }

  it("queries a member once, then answers from memory without a promise", async () => {
    const t = setup({ rep1: true });
    await t.firstContact("rep1");
    expect(t.findOne).toHaveBeenCalledTimes(1);
    expect(t.firstContact("rep1")).toBeUndefined();
    t.advance(FIRST_CONTACT_TTL_MS - 1);
    expect(t.firstContact("rep1")).toBeUndefined();
    expect(t.findOne).toHaveBeenCalledTimes(1);
    expect(t.lookup).not.toHaveBeenCalled();
  });

  it("asks again once the entry is older than the TTL (a row that disappeared is found missing)", async () => {
    const rows: Record<string, boolean> = { rep2: true };
    const t = setup(rows);
    await t.firstContact("rep2");
    delete rows.rep2;
    t.advance(FIRST_CONTACT_TTL_MS);
    const again = t.firstContact("rep2");
    expect(again).toBeInstanceOf(Promise);
    await again;
    expect(t.findOne).toHaveBeenCalledTimes(2);
    expect(t.lookup).toHaveBeenCalledWith("rep2");
    expect(t.firstContact("rep2")).toBeUndefined();
  });

  it("shares one lookup among frames of a new member arriving together", async () => {
    const t = setup({});
    const a = t.firstContact("new1");
    const b = t.firstContact("new1");
    expect(a).toBe(b);
    await Promise.all([a, b]);
    expect(t.findOne).toHaveBeenCalledTimes(1);
    expect(t.lookup).toHaveBeenCalledTimes(1);
  });

  it("does not remember a member whose lookup failed: the next frame tries again", async () => {
    const t = setup({});
    t.findOne.mockRejectedValueOnce(new Error("db down"));
    await t.firstContact("rep3");
    expect(t.warn).toHaveBeenCalledTimes(1);
    await t.firstContact("rep3");
    expect(t.findOne).toHaveBeenCalledTimes(2);
    expect(t.firstContact("rep3")).toBeUndefined();
  });
});
