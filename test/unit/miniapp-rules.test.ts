import fs from "node:fs";
import path from "node:path";
import { isMessageKey } from "../../src/domain/i18n";
import { isPriorityCustomer, mayViewOrder, visibleRepIds, type Viewer } from "../../src/domain/order-access";
import type { Role } from "../../src/domain/roles";
import { pinyinInitials } from "../../src/services/search-customers";

const viewer = (userId: number, roles: Role[], teamIds: number[] = [userId]): Viewer => ({
  actor: { kind: "user", userId, roles, label: `user:${userId}` },
  teamIds,
});

describe("who sees which orders in the mini-app", () => {
  it("shows a rep their own orders only", () => {
    const rep = viewer(3, ["sales"]);
    expect(visibleRepIds(rep)).toEqual([3]);
    expect(mayViewOrder(rep, { salesRepId: 3 }, [])).toBe(true);
    expect(mayViewOrder(rep, { salesRepId: 4 }, [])).toBe(false);
  });

  it("shows a manager their team's orders, not another team's, unless asked to approve one", () => {
    const manager = viewer(2, ["manager"], [2, 3, 4]);
    expect(mayViewOrder(manager, { salesRepId: 4 }, [])).toBe(true);
    expect(mayViewOrder(manager, { salesRepId: 9 }, [])).toBe(false);
    expect(mayViewOrder(manager, { salesRepId: 9 }, [2])).toBe(true);
  });

  it("shows finance, warehouse and admin everyone's orders", () => {
    for (const role of ["finance", "warehouse", "admin"] as Role[]) {
      expect(visibleRepIds(viewer(7, [role]))).toBeNull();
      expect(mayViewOrder(viewer(7, [role]), { salesRepId: 99 }, [])).toBe(true);
    }
  });

  it("flags VIP and A customers as priority, whatever the case", () => {
    expect([isPriorityCustomer("VIP"), isPriorityCustomer(" a "), isPriorityCustomer("B"), isPriorityCustomer(null)]).toEqual([true, true, false, false]);
  });
});

describe("pinyin initials for customer search", () => {
  it("turns Chinese names into initials and keeps latin letters and digits", () => {
    expect(pinyinInitials("华东医疗器械有限公司")).toBe("hdylqxyxgs");
    expect(pinyinInitials("ACME 贸易 2号")).toBe("acmemy2h");
  });
});

describe("mini-app templates", () => {
  it("name only message keys that exist, so no page fails on a typo", () => {
    const dir = path.resolve(__dirname, "../../miniapp/views/m");
    const files = [...fs.readdirSync(dir).map((f) => path.join(dir, f)), ...fs.readdirSync(path.join(dir, "partials")).map((f) => path.join(dir, "partials", f))].filter((f) => f.endsWith(".njk"));
    const keys = files.flatMap((f) => [...fs.readFileSync(f, "utf8").matchAll(/\bt\(\s*["']([\w.]+)["']\s*[,)]/g)].map((m) => m[1]));
    expect(keys.length).toBeGreaterThan(50);
    expect(keys.filter((k) => !isMessageKey(k))).toEqual([]);
  });
});
