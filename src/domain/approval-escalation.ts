/**
 * Escalation of a pending approval step: each approver who has not decided yet gets their own manager
 * added to the step, who may then decide in their place. For a countersign step (mode "all") the
 * manager's approval stands in for the approver they were added for, so escalating never makes a step
 * need more approvals than before.
 */

export interface Escalation {
  /** The approver who did not decide in time. */
  from: number;
  /** Their manager, who may now decide for them. */
  to: number;
  /** False when `to` was already an approver of the step (then nothing was added to the list). */
  added: boolean;
  /** ISO instant of the escalation. */
  at: string;
}

/** The escalations to make now: one per undecided approver with a manager, none twice. */
export function planEscalation(
  approverIds: readonly number[],
  decidedBy: ReadonlySet<number>,
  managerOf: ReadonlyMap<number, number | null>,
  existing: readonly Escalation[],
  at: Date,
): Escalation[] {
  const plan: Escalation[] = [];
  const current = new Set(approverIds);
  for (const from of approverIds) {
    if (decidedBy.has(from) || existing.some((e) => e.from === from)) continue;
    const to = managerOf.get(from) ?? null;
    if (to === null || to === from) continue;
    plan.push({ from, to, added: !current.has(to), at: at.toISOString() });
    current.add(to);
  }
  return plan;
}

/** The approver list after the escalations: the original approvers, then the managers added. */
export function withEscalated(approverIds: readonly number[], escalations: readonly Escalation[]): number[] {
  const ids = [...approverIds];
  for (const e of escalations) if (!ids.includes(e.to)) ids.push(e.to);
  return ids;
}

/** The approvers whose approval a countersign step needs: everyone but the managers added by escalation. */
export function requiredApprovers(approverIds: readonly number[], escalations: readonly Escalation[]): number[] {
  return approverIds.filter((id) => !escalations.some((e) => e.to === id && e.added));
}

/** A countersign step is approved when every required approver approved, in person or through their manager. */
export function countersignComplete(approverIds: readonly number[], escalations: readonly Escalation[], approvedBy: ReadonlySet<number>): boolean {
  return requiredApprovers(approverIds, escalations).every(
    (id) => approvedBy.has(id) || escalations.some((e) => e.from === id && approvedBy.has(e.to)),
  );
}
