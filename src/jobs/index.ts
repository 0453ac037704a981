import { approvalReminders } from "./approval-reminders";
import { dailyDigest } from "./daily-digest";
import { housekeeping } from "./housekeeping";
import type { JobDeps } from "./job-deps";
import { lowStock } from "./low-stock";
import { receivables } from "./receivables";
import { reportRollups } from "./report-rollups";
import type { Job } from "./runner";

export type { JobDeps } from "./job-deps";

/** The business's scheduled work (issue 7); app.ts adds these to the platform jobs. */
export function scheduledJobs(d: JobDeps): Array<Job<null>> {
  return [approvalReminders(d), receivables(d), dailyDigest(d), lowStock(d), housekeeping(d), reportRollups(d)];
}
