import type { App } from "../../src/app";
import { API_ACTOR } from "./factories";

/** A clock tests move by hand: every service and job reads it through app.ts. */
export function fakeClock(start: string) {
  let at = new Date(start);
  return {
    now: () => new Date(at),
    set(local: string) {
      at = new Date(local);
    },
    advanceHours(h: number) {
      at = new Date(at.getTime() + h * 3_600_000);
    },
  };
}

/** Routes every order to one step of these approvers (mode any or all). */
export async function routeTo(app: App, userIds: number[], mode: "any" | "all" = "any") {
  await app.services.saveRuleSet(
    {
      version: 1,
      rules: [{ id: "test", name: "测试审批", when: { any: [{ type: "always" }] }, step: { order: 1, label: "测试审批", approvers: { type: "users", userIds }, mode } }],
    },
    API_ACTOR,
  );
}

/** No approval at all: orders are approved on submit. */
export async function noApprovals(app: App) {
  await app.services.saveRuleSet({ version: 1, rules: [] }, API_ACTOR);
}

export async function outboxRows(app: App, topic: string) {
  const rows = await app.db.models.Outbox.findAll({ where: { topic }, order: [["id", "ASC"]] });
  return rows.map((r) => ({ dedupeKey: r.dedupeKey, payload: r.payload as Record<string, unknown> }));
}
