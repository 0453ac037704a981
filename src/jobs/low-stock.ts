import { sendLowStockAlerts } from "../services/scheduled/low-stock";
import type { JobDeps } from "./job-deps";
import type { Job } from "./runner";

/** Skus below safety stock → purchasing and admins, with a reorder suggestion; each sku once a day. */
export function lowStock(d: JobDeps): Job<null> {
  return {
    name: "low-stock",
    schedule: d.config.schedules.lowStock,
    run: () => sendLowStockAlerts(d.serviceDeps, { leadTimeDays: d.config.lowStock.leadTimeDays }),
  };
}
