/** Business days and display times are Shanghai's; storage is UTC. */
export const BUSINESS_TZ = "Asia/Shanghai";

const dayFormat = new Intl.DateTimeFormat("en-CA", {
  timeZone: BUSINESS_TZ,
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
});

/** "20261123" for the Shanghai calendar day containing `at`. */
export function businessDay(at: Date): string {
  return dayFormat.format(at).replace(/-/g, "");
}

const displayFormat = new Intl.DateTimeFormat("zh-CN", {
  timeZone: BUSINESS_TZ,
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  hour12: false,
});

/** "2026/11/23 14:05" in Shanghai time. */
export function formatShanghai(at: Date): string {
  return displayFormat.format(at);
}
