import type { Cache } from "../../cache/cache";
import { ChannelError } from "../channel";
import type { WecomClient } from "./client";

const HOUR_MS = 60 * 60 * 1000;

/**
 * A department's name (wecom.md 8.2), cached for an hour under `<prefix>:dept:<id>`; its id when the app
 * may not read it. The channel and the role mapping share the cache key, so they share what they learn.
 */
export async function departmentName(deps: { client: WecomClient; cache: Cache; prefix: string }, id: number): Promise<string> {
  const key = `${deps.prefix}:dept:${id}`;
  const cached = await deps.cache.get(key);
  if (cached) return cached;
  let name = String(id);
  try {
    const res = await deps.client.get("/cgi-bin/department/get", { id: String(id) });
    const dept = (Array.isArray(res.department) ? res.department[0] : res.department) as { name?: unknown } | undefined;
    if (typeof dept?.name === "string" && dept.name) name = dept.name;
  } catch (err) {
    if (!(err instanceof ChannelError) || err.failure !== "rejected") throw err;
  }
  await deps.cache.set(key, name, HOUR_MS);
  return name;
}
