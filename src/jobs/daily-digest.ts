import { sendDailyDigest } from "../services/scheduled/daily-digest";
import type { JobDeps } from "./job-deps";
import type { Job } from "./runner";

/** 09:00: yesterday's figures to managers and directors, with a link to the dashboard. */
export function dailyDigest(d: JobDeps): Job<null> {
  return {
    name: "daily-digest",
    schedule: d.config.schedules.dailyDigest,
    async run() {
      const { recipients, figures } = await sendDailyDigest(d.serviceDeps);
      return { recipients, day: figures.day, orders: figures.orders };
    },
  };
}
