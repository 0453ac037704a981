/** Something a person may name in chat: a product (code = SKU), a customer (code = customer code). */
export interface Matchable {
  id: number;
  code: string;
  name: string;
  barcode?: string | null;
  aliases?: string[];
}

export type MatchResult<T> =
  | { kind: "exact"; item: T }
  | { kind: "unique"; item: T }
  | { kind: "ambiguous"; items: T[] }
  | { kind: "none" };

const DEFAULT_MAX_AMBIGUOUS = 8;
const UNIT_WORDS = new Set([
  ..."箱个件盒包只瓶套袋桶支双台卷张把条罐组提副",
  ...["pcs", "pc", "piece", "pieces", "box", "boxes", "unit", "units", "ctn", "carton", "cartons"],
  ...["pack", "packs", "bag", "bags", "bottle", "bottles", "set", "sets", "pair", "pairs", "roll", "rolls"],
]);
const SEPARATORS = /[\s\p{P}\p{S}]+/u;
const SEPARATORS_ALL = new RegExp(SEPARATORS.source, "gu");
// Typo tolerance is for codes people type by hand (SKU-1001); shorter ones are too easy to hit by accident.
const MIN_TYPO_CODE = 6;

/** NFKC, lower case, no spaces or punctuation; keeps every character that could tell two names apart. */
function compactKey(s: string): string {
  // Unicode-aware folding costs ~1 µs a string; printable ASCII (most codes and barcodes) needs none of it.
  if (/^[\x20-\x7e]*$/.test(s)) return s.toLowerCase().replace(/[^a-z0-9]+/g, "");
  return s.normalize("NFKC").toLowerCase().replace(SEPARATORS_ALL, "");
}

/**
 * The comparable form of a typed name: compact, and without a trailing unit word when it stands
 * apart ("N95口罩 箱", "SKU-1001 pcs"). A unit glued to a name is kept: "手套" and "工具箱" end
 * in unit characters but are names.
 */
export function normalizeKey(s: string): string {
  const parts = s.normalize("NFKC").toLowerCase().split(SEPARATORS).filter(Boolean);
  if (parts.length > 1 && UNIT_WORDS.has(parts[parts.length - 1])) parts.pop();
  return parts.join("");
}

interface Keys {
  code: string;
  barcode: string;
  names: string[]; // name first, then aliases
}

interface Hit {
  index: number;
  tier: number; // 0 name starts with the query, 1 contains it, 2 the query contains the whole name
  length: number;
}

/**
 * The candidate `query` names: exact code/barcode, then exact name or alias, then a unique name
 * containing it, then (for typed codes) one edit away. Several equally good answers are returned
 * as "ambiguous", best first; the choice between them is left to the person.
 */
export function matchOne<T extends Matchable>(
  query: string,
  candidates: readonly T[],
  opts: { maxAmbiguous?: number } = {},
): MatchResult<T> {
  const asked = opts.maxAmbiguous ?? DEFAULT_MAX_AMBIGUOUS;
  const max = Number.isFinite(asked) ? Math.max(1, Math.floor(asked)) : DEFAULT_MAX_AMBIGUOUS;
  const variants = [...new Set([compactKey(query), normalizeKey(query)])].filter((v) => v !== "");
  if (variants.length === 0) return { kind: "none" };
  const keys = candidates.map(keysOf);
  const pick = (indexes: number[], kind: "exact" | "unique"): MatchResult<T> | null => {
    if (indexes.length === 0) return null;
    if (indexes.length === 1) return { kind, item: candidates[indexes[0]] } as MatchResult<T>;
    return { kind: "ambiguous", items: indexes.slice(0, max).map((i) => candidates[i]) };
  };

  for (const v of variants) {
    const found = pick(indexesWhere(keys, (k) => k.code === v || k.barcode === v), "exact");
    if (found) return found;
  }
  for (const v of variants) {
    const found = pick(indexesWhere(keys, (k) => k.names.includes(v)), "exact");
    if (found) return found;
  }
  for (const v of variants) {
    const found = pick(containing(keys, v), "unique");
    if (found) return found;
  }
  return pick(oneEditAway(keys, variants[0]), "unique") ?? { kind: "none" };
}

// The bot matches every line of an order against the same loaded catalog, so keys are remembered per
// candidate object, and recomputed whenever the texts they came from have changed.
const keyCache = new WeakMap<Matchable, { from: Matchable; aliases: string; keys: Keys }>();

function keysOf(c: Matchable): Keys {
  const aliases = c.aliases ? c.aliases.join("\u0000") : "";
  const hit = keyCache.get(c);
  const same = hit && hit.from.code === c.code && hit.from.name === c.name && hit.from.barcode === c.barcode;
  if (same && hit.aliases === aliases) return hit.keys;
  const keys = {
    code: compactKey(c.code),
    barcode: c.barcode ? compactKey(c.barcode) : "",
    names: [c.name, ...(c.aliases ?? [])].map(compactKey).filter((k) => k !== ""),
  };
  keyCache.set(c, { from: { id: c.id, code: c.code, name: c.name, barcode: c.barcode }, aliases, keys });
  return keys;
}

function indexesWhere(keys: readonly Keys[], test: (k: Keys) => boolean): number[] {
  const out: number[] = [];
  keys.forEach((k, i) => {
    if (test(k)) out.push(i);
  });
  return out;
}

/** Names that contain the query (or that the query contains whole), ranked best first. */
function containing(keys: readonly Keys[], q: string): number[] {
  const hits: Hit[] = [];
  keys.forEach((k, index) => {
    let best: Hit | null = null;
    for (const name of k.names) {
      const at = name.indexOf(q);
      // A one-character name would be "contained" in far too many queries to mean anything.
      const tier = at === 0 ? 0 : at > 0 ? 1 : name.length >= 2 && q.includes(name) ? 2 : -1;
      if (tier < 0) continue;
      const hit = { index, tier, length: tier === 2 ? -name.length : name.length };
      if (!best || hit.tier < best.tier || (hit.tier === best.tier && hit.length < best.length)) best = hit;
    }
    if (best) hits.push(best);
  });
  // Shorter names first: "口罩" is a closer answer to "口罩" than "医用外科口罩"; for names inside
  // the query, the longest (most specific) comes first.
  hits.sort((a, b) => a.tier - b.tier || a.length - b.length || a.index - b.index);
  return hits.map((h) => h.index);
}

function oneEditAway(keys: readonly Keys[], q: string): number[] {
  if (q.length < MIN_TYPO_CODE || !/^[a-z0-9]+$/.test(q)) return [];
  return indexesWhere(keys, (k) => k.code.length >= MIN_TYPO_CODE && withinOneEdit(q, k.code));
}

/**
 * Optimal-string-alignment distance ≤ 1 (one substitution, insertion, deletion or adjacent swap),
 * except that changing or swapping digits is refused: "SKU-1002" for "SKU-1001" is more likely
 * another product than a slip of the finger.
 */
function withinOneEdit(a: string, b: string): boolean {
  if (Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  if (a.length !== b.length) {
    const [short, long] = a.length < b.length ? [a, b] : [b, a];
    return short.slice(i) === long.slice(i + 1);
  }
  if (i === a.length) return true;
  if (a.slice(i + 1) === b.slice(i + 1)) return !(isDigit(a[i]) && isDigit(b[i]));
  const swapped = a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2);
  return swapped && !(isDigit(a[i]) && isDigit(b[i]));
}

function isDigit(c: string): boolean {
  return c >= "0" && c <= "9";
}
