import { sendReceivablesDigests } from "../services/scheduled/send-receivables";
import type { JobDeps } from "./job-deps";
import type { Job } from "./runner";

/** Each morning: reps hear of their overdue orders; managers of those more than N days late. */
export function receivables(d: JobDeps): Job<null> {
  return {
    name: "receivables",
    schedule: d.config.schedules.receivables,
    run: () => sendReceivablesDigests(d.serviceDeps, { escalateAfterDays: d.config.receivables.escalateAfterDays }),
  };
}
