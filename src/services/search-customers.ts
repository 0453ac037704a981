import { pinyin } from "pinyin-pro";
import type { ServiceDeps } from "./deps";
import { listCustomers } from "./list-catalog";

export interface CustomerHit {
  code: string;
  name: string;
  level: string | null;
}

const INITIALS_TTL_MS = 60_000;
const MAX_INDEXED = 20_000;

/** "华东医疗" → "hdyl"; letters and digits of non-Chinese names are kept as they are. */
export function pinyinInitials(name: string): string {
  return pinyin(name, { pattern: "first", toneType: "none", type: "array" })
    .join("")
    .replace(/[^a-z0-9]/gi, "")
    .toLowerCase();
}

/**
 * Active customers whose code or name contains `q`, then those whose pinyin initials start with it
 * (a rep types "hdyl" for 华东医疗). The initials are computed once a minute for all customers.
 */
export async function searchCustomers(deps: ServiceDeps, input: { q: string; limit?: number }): Promise<CustomerHit[]> {
  const limit = Math.min(Math.max(input.limit ?? 20, 1), 100);
  const q = input.q.trim();
  const direct = (await listCustomers(deps, { q: q || undefined, limit: limit * 2 })).items.filter((c) => c.active);
  const hits: CustomerHit[] = direct.map((c) => ({ code: c.code, name: c.name, level: c.level }));
  if (/^[a-z]{2,16}$/i.test(q) && hits.length < limit) {
    const index = await deps.memo.get("customer-initials", INITIALS_TTL_MS, async () => {
      const rows = await deps.db.models.Customer.findAll({ where: { active: true }, attributes: ["code", "name", "level"], limit: MAX_INDEXED });
      return rows.map((c) => ({ code: c.code, name: c.name, level: c.level, initials: pinyinInitials(c.name) }));
    });
    const seen = new Set(hits.map((h) => h.code));
    const needle = q.toLowerCase();
    for (const c of index) {
      if (hits.length >= limit) break;
      if (!seen.has(c.code) && c.initials.startsWith(needle)) hits.push({ code: c.code, name: c.name, level: c.level });
    }
  }
  return hits.slice(0, limit);
}
