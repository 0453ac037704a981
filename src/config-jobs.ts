import cron from "node-cron";
import { z } from "zod";
import { parseHoursRange, parseWeekdays, type WorkingCalendar } from "./domain/working-hours";

/**
 * Scheduled work (src/jobs): the schema fragment config.ts merges into its Env and the typed JobsConfig
 * built from it. Every schedule is cron text in Asia/Shanghai time; "off" leaves that job unscheduled
 * (it can still be run by hand with `npm run cli -- job run <name>`).
 */

const unset = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === "" ? undefined : v), schema.optional());
const schedule = (fallback: string) =>
  unset(
    z.string().refine((v) => v === "off" || cron.validate(v), { message: 'must be cron text such as "*/15 * * * *", or "off"' }),
  ).transform((v) => (v === undefined ? fallback : v === "off" ? null : v));
const count = (fallback: number, max: number) => unset(z.coerce.number().int().min(1).max(max)).transform((v) => v ?? fallback);
const hours = (fallback: number) => unset(z.coerce.number().positive().max(24 * 30)).transform((v) => v ?? fallback);

export const JobsEnv = {
  JOBS_ENABLED: unset(z.enum(["true", "false", "1", "0", "yes", "no"], { message: "must be true or false" })),
  JOB_APPROVAL_REMINDERS_CRON: schedule("*/15 * * * *"),
  JOB_RECEIVABLES_CRON: schedule("30 9 * * 1-5"),
  JOB_DAILY_DIGEST_CRON: schedule("0 9 * * *"),
  JOB_LOW_STOCK_CRON: schedule("0 9-17 * * 1-5"),
  JOB_HOUSEKEEPING_CRON: schedule("30 2 * * *"),
  JOB_REPORT_ROLLUPS_CRON: schedule("*/5 * * * *"),
  WORKING_DAYS: unset(z.string().refine((v) => parseWeekdays(v) !== null, { message: 'must be ISO weekdays such as "1-5" or "1,2,3,4,5,6"' })),
  WORKING_HOURS: unset(z.string().refine((v) => parseHoursRange(v) !== null, { message: 'must be a range such as "09:00-18:00"' })),
  APPROVAL_REMIND_AFTER_HOURS: hours(2),
  APPROVAL_ESCALATE_AFTER_HOURS: hours(8),
  RECEIVABLES_ESCALATE_AFTER_DAYS: count(15, 3650),
  LOW_STOCK_LEAD_TIME_DAYS: count(7, 365),
  DRAFT_ARCHIVE_AFTER_DAYS: count(30, 3650),
  RETENTION_DAYS: count(30, 3650),
  HOUSEKEEPING_BATCH_SIZE: count(500, 10000),
};

type JobsEnvShape = z.output<z.ZodObject<typeof JobsEnv>>;

export interface JobsConfig {
  /** Off: this instance schedules nothing (another instance, or a dedicated one, does). */
  enabled: boolean;
  schedules: {
    approvalReminders: string | null;
    receivables: string | null;
    dailyDigest: string | null;
    lowStock: string | null;
    housekeeping: string | null;
    reportRollups: string | null;
  };
  calendar: WorkingCalendar;
  approvals: { remindAfterHours: number; escalateAfterHours: number };
  receivables: { escalateAfterDays: number };
  lowStock: { leadTimeDays: number };
  housekeeping: { draftArchiveDays: number; retentionDays: number; batchSize: number };
}

export function toJobsConfig(e: JobsEnvShape): JobsConfig {
  const hoursRange = parseHoursRange(e.WORKING_HOURS ?? "09:00-18:00")!;
  return {
    enabled: e.JOBS_ENABLED === undefined ? true : ["true", "1", "yes"].includes(e.JOBS_ENABLED),
    schedules: {
      approvalReminders: e.JOB_APPROVAL_REMINDERS_CRON,
      receivables: e.JOB_RECEIVABLES_CRON,
      dailyDigest: e.JOB_DAILY_DIGEST_CRON,
      lowStock: e.JOB_LOW_STOCK_CRON,
      housekeeping: e.JOB_HOUSEKEEPING_CRON,
      reportRollups: e.JOB_REPORT_ROLLUPS_CRON,
    },
    calendar: { days: parseWeekdays(e.WORKING_DAYS ?? "1-5")!, ...hoursRange },
    approvals: { remindAfterHours: e.APPROVAL_REMIND_AFTER_HOURS, escalateAfterHours: e.APPROVAL_ESCALATE_AFTER_HOURS },
    receivables: { escalateAfterDays: e.RECEIVABLES_ESCALATE_AFTER_DAYS },
    lowStock: { leadTimeDays: e.LOW_STOCK_LEAD_TIME_DAYS },
    housekeeping: { draftArchiveDays: e.DRAFT_ARCHIVE_AFTER_DAYS, retentionDays: e.RETENTION_DAYS, batchSize: e.HOUSEKEEPING_BATCH_SIZE },
  };
}
