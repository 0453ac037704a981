import { refreshRollups } from "../services/reports/refresh-rollups";
import type { JobDeps } from "./job-deps";
import type { Job } from "./runner";

/** Every few minutes: the dashboard's daily rollups catch up with the orders changed since the last run. */
export function reportRollups(d: JobDeps): Job<null> {
  return {
    name: "report-rollups",
    schedule: d.config.schedules.reportRollups,
    // The first run builds every day at once; give it room before another instance may take over.
    lockMs: 30 * 60 * 1000,
    run: () => refreshRollups(d.serviceDeps),
  };
}
