import { ConfigError, loadConfig } from "../../src/config";

describe("scheduled work settings", () => {
  it("has sane defaults: reminders every 15 minutes, the digest at 09:00, weekdays 09:00–18:00", () => {
    const { jobs } = loadConfig({});
    expect(jobs.enabled).toBe(true);
    expect(jobs.schedules).toMatchObject({ approvalReminders: "*/15 * * * *", dailyDigest: "0 9 * * *" });
    expect(jobs.calendar).toEqual({ days: [1, 2, 3, 4, 5], startMinute: 540, endMinute: 1080 });
    expect(jobs.approvals).toEqual({ remindAfterHours: 2, escalateAfterHours: 8 });
    expect(jobs.housekeeping).toEqual({ draftArchiveDays: 30, retentionDays: 30, batchSize: 500 });
  });

  it("takes every schedule and threshold from the environment; off leaves a job unscheduled; empty means default", () => {
    const { jobs } = loadConfig({ JOB_HOUSEKEEPING_CRON: "off", JOB_DAILY_DIGEST_CRON: "30 8 * * 1-5", WORKING_DAYS: "1-6", WORKING_HOURS: "08:30-17:30", APPROVAL_REMIND_AFTER_HOURS: "1.5", LOW_STOCK_LEAD_TIME_DAYS: "", JOBS_ENABLED: "false" });
    expect(jobs.schedules.housekeeping).toBeNull();
    expect(jobs.schedules.dailyDigest).toBe("30 8 * * 1-5");
    expect(jobs.calendar).toEqual({ days: [1, 2, 3, 4, 5, 6], startMinute: 510, endMinute: 1050 });
    expect(jobs.approvals.remindAfterHours).toBe(1.5);
    expect(jobs.lowStock.leadTimeDays).toBe(7);
    expect(jobs.enabled).toBe(false);
  });

  it.each([
    [{ JOB_APPROVAL_REMINDERS_CRON: "every 15 minutes" }, /^JOB_APPROVAL_REMINDERS_CRON: must be cron text/],
    [{ WORKING_HOURS: "18:00-09:00" }, /^WORKING_HOURS: /],
    [{ WORKING_DAYS: "mon-fri" }, /^WORKING_DAYS: /],
    [{ APPROVAL_ESCALATE_AFTER_HOURS: "-1" }, /^APPROVAL_ESCALATE_AFTER_HOURS: /],
    [{ RETENTION_DAYS: "0" }, /^RETENTION_DAYS: /],
  ])("refuses %p naming the setting", (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
