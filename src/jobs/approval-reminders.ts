import { chaseStep, findStepsToChase } from "../services/chase-approvals";
import type { JobDeps } from "./job-deps";
import type { Job } from "./runner";

/** Pending approvals: a reminder card after N working hours (again every N), escalation to the manager after M. */
export function approvalReminders(d: JobDeps): Job<null> {
  return {
    name: "approval-reminders",
    schedule: d.config.schedules.approvalReminders,
    async run() {
      const policy = { ...d.config.approvals, calendar: d.config.calendar };
      const due = await findStepsToChase(d.serviceDeps, policy);
      const counts = { due: due.length, reminded: 0, escalated: 0, failed: 0 };
      for (const { stepId } of due) {
        // One step failing (a deleted user, a deadlock) must not keep the others from being chased.
        try {
          const done = await chaseStep(d.serviceDeps, { stepId, policy });
          if (done === "remind") counts.reminded += 1;
          if (done === "escalate") counts.escalated += 1;
        } catch (err) {
          counts.failed += 1;
          d.log.error({ err, stepId }, "could not chase approval step");
        }
      }
      return counts;
    },
  };
}
