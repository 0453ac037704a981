import { parseRuleSet, type RuleSet } from "../domain/approval-rules";
import type { Actor } from "../domain/roles";
import type { ServiceDeps } from "./deps";
import { activeRuleSet } from "./support/approval-round";
import { recordAudit } from "./support/audit";

/** Validates and activates a new approval rule set; the previous one is kept, inactive, for the record. */
export async function saveRuleSet(deps: ServiceDeps, json: unknown, actor: Actor): Promise<RuleSet> {
  const rules = parseRuleSet(json);
  await deps.db.transaction(async (tx) => {
    const m = deps.db.models;
    const before = await activeRuleSet(deps, tx);
    await m.RuleSet.update({ active: false }, { where: { active: true }, transaction: tx });
    const row = await m.RuleSet.create({ rules, active: true, createdBy: actor.label }, { transaction: tx });
    await recordAudit(deps, tx, { entity: "rule_set", entityId: row.id, action: "activated", actor, before, after: rules });
  });
  deps.memo.forget("rule-set");
  return rules;
}

export { activeRuleSet as getActiveRuleSet };
