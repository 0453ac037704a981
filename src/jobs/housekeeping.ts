import { archiveStaleDrafts, purgeOldRows } from "../services/scheduled/housekeeping";
import type { JobDeps } from "./job-deps";
import type { Job } from "./runner";

/** Nightly: stale drafts archived; sent outbox rows and handled inbound event keys past retention deleted. */
export function housekeeping(d: JobDeps): Job<null> {
  const h = d.config.housekeeping;
  return {
    name: "housekeeping",
    schedule: d.config.schedules.housekeeping,
    async run() {
      const archived = await archiveStaleDrafts(d.serviceDeps, { days: h.draftArchiveDays, batchSize: h.batchSize });
      const purged = await purgeOldRows(d.serviceDeps, { retentionDays: h.retentionDays, batchSize: h.batchSize });
      return { archived, ...purged };
    },
  };
}
