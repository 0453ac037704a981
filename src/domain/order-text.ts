import type { Locale } from "./i18n";
import { yuanToFen } from "./money";
import { ORDER_NO_PATTERN } from "./order-no";

/** One item line as typed; the product is still free text, matched against the catalog later. */
export interface ParsedLine {
  product: string;
  qty: number;
  unit: string | null;
  unitPriceFen: number | null;
  raw: string;
}

export type BotIntent =
  | { kind: "help" }
  | { kind: "new_order" }
  | { kind: "order_text"; customer: string | null; lines: ParsedLine[]; problems: string[] }
  | { kind: "my_orders" }
  | { kind: "order_status"; orderNo: string }
  | { kind: "stock"; query: string }
  | { kind: "language"; locale: Locale }
  | { kind: "unknown"; text: string };

/**
 * NFKC (full-width → half-width), Chinese punctuation unified, spaces collapsed, trimmed.
 * Line breaks are kept (one per line) because people put one item per line.
 */
export function normalizeText(text: string): string {
  return text
    .normalize("NFKC")
    .replace(/[\u200b-\u200d\u2060\ufeff]/g, "") // zero-width characters pasted from chat clients
    .replace(/\r\n?/g, "\n")
    .replace(/[，、]/g, ",")
    .replace(/。/g, ".")
    .replace(/：/g, ":")
    .replace(/；/g, ";")
    .replace(/[^\S\n]+/g, " ")
    .replace(/ ?\n\s*/g, "\n")
    .trim();
}

const HELP = /^(?:帮助|help|\/help|菜单|menu|使用说明|怎么用|\?+)$/i;
// The whole message, nothing else: "English" inside an order or a product name must stay what it is.
const TO_ENGLISH = /^(?:english|英文|英语|切换(?:到|为|成)?(?:英文|英语)|(?:switch|change)(?: language)? to english|language:? ?(?:en|english))$/i;
const TO_CHINESE = /^(?:中文|汉语|简体中文|chinese|切换(?:到|为|成)?中文|(?:switch|change)(?: language)? to chinese|language:? ?(?:zh|chinese|中文))$/i;
const MY_ORDERS = /^(?:我的订单|我的单子|my orders?)$/i;
const ORDER_WORD = "(?:(?:帮我|我要|请)?(?:下订单|下单|开单|新建订单|新订单)|(?:new order|place order|create order|order)(?![a-z]))";
const NEW_ORDER = new RegExp(`^${ORDER_WORD}$`, "i");
const ORDER_KEYWORD = new RegExp(`^${ORDER_WORD}\\s*:?\\s*`, "i");
const ORDER_NO_IN_TEXT = /(?<![a-z0-9])so\s*[-_–—]?\s*(\d{8})\s*[-_–—]?\s*(\d{4,})(?!\d)/gi;
// What may surround an order number for the message to still be a status question.
const STATUS_WORDS =
  /^(?:查询|查看|查一下|查下|查|订单号|订单|单号|状态|进度|物流|详情|到哪了|到哪里了|怎么样了|的|status|order|check|track|of|the|no|number|[\s:?#,.!])*$/i;
const STOCK_PREFIX =
  /^(?:(?:查询|查)?库存(?:查询)?|(?:check\s+)?(?:stock|inventory)(?![a-z])(?:\s+(?:of|for)(?![a-z]))?)\s*:?\s*(.*)$/i;
const STOCK_SUFFIX = /^(.+?)\s*(?:的|还有|有没有|有)?\s*(?:库存|stock)(?:还有多少|有多少|多少|吗|[\s?!.])*$/i;

/** What one chat message asks for; never throws, and says "unknown" rather than guessing. */
export function parseIntent(text: string): BotIntent {
  const t = typeof text === "string" ? normalizeText(text) : "";
  if (t === "") return { kind: "unknown", text: t };
  if (HELP.test(t)) return { kind: "help" };
  const bare = t.replace(/[\s:!.?]+$/, "");
  if (TO_ENGLISH.test(bare)) return { kind: "language", locale: "en" };
  if (TO_CHINESE.test(bare)) return { kind: "language", locale: "zh-CN" };
  if (MY_ORDERS.test(bare)) return { kind: "my_orders" };
  if (NEW_ORDER.test(bare)) return { kind: "new_order" };

  const orderNo = statusQuestion(t);
  if (orderNo) return { kind: "order_status", orderNo };
  const prefixed = STOCK_PREFIX.exec(t);
  const stockQuery = prefixed ? cleanQuery(prefixed[1]) : "";
  if (stockQuery) return { kind: "stock", query: stockQuery };

  const keyword = ORDER_KEYWORD.exec(t);
  if (keyword) return { kind: "order_text", ...parseOrderBody(t.slice(keyword[0].length)) };

  const suffixed = STOCK_SUFFIX.exec(t);
  const suffixQuery = suffixed ? cleanQuery(suffixed[1]) : "";
  if (suffixQuery) return { kind: "stock", query: suffixQuery };
  return { kind: "unknown", text: t };
}

/** The order number when the message is one number plus only "check / status" words around it. */
function statusQuestion(t: string): string | null {
  const found = [...t.matchAll(ORDER_NO_IN_TEXT)];
  if (found.length !== 1) return null;
  const [match, day, seq] = found[0];
  const rest = t.slice(0, found[0].index) + " " + t.slice((found[0].index ?? 0) + match.length);
  const orderNo = `SO-${day}-${seq}`;
  return STATUS_WORDS.test(rest) && ORDER_NO_PATTERN.test(orderNo) ? orderNo : null;
}

function cleanQuery(q: string): string {
  return q.replace(/(?:吗|[\s?!.:])+$/, "").trim();
}

// ---------------------------------------------------------------- order body: customer, then items

const NO_ITEMS = "没有识别到商品，请按“商品 数量”填写，例如：N95口罩 200箱";
const CUSTOMER_LABEL = /^(?:客户名称|客户名|客户|customer|client)(?![a-z])\s*:?\s*/i;
const FIELD_BEFORE_COLON = /(?:数量|单价|价格|售价|qty|price)\s*$/i;

interface BodyParse {
  customer: string | null;
  lines: ParsedLine[];
  problems: string[];
}

/**
 * The customer is the first word(s) after the keyword, but "下单 N95口罩 200箱" has none: each
 * reading is tried and the one that leaves fewest problems wins (ties go to having a customer).
 */
function parseOrderBody(body: string): BodyParse {
  let best: (BodyParse & { score: number }) | null = null;
  for (const option of customerOptions(body)) {
    const items = groupItems(option.rest, tokenize(option.rest));
    const score = items.problems.length + (items.lines.length === 0 ? 1 : 0);
    if (!best || score < best.score) best = { customer: option.customer, ...items, score };
  }
  const { customer, lines, problems } = best as BodyParse;
  if (lines.length === 0 && problems.length === 0) problems.push(NO_ITEMS);
  return { customer, lines, problems };
}

/** Readings of where the customer ends, most explicit first; parseOrderBody keeps the best. */
function customerOptions(body: string): { customer: string | null; rest: string }[] {
  const label = CUSTOMER_LABEL.exec(body);
  const text = (label ? body.slice(label[0].length) : body).replace(/^[\s,;.]+/, "");
  const options: { customer: string | null; rest: string }[] = [];
  const offer = (customer: string, restAt: number) => {
    const rest = text.slice(restAt).replace(/^[\s,;:.]+/, "");
    if (!isWordsOnly(customer) || options.some((o) => o.rest === rest)) return;
    options.push({ customer: cleanCustomer(customer), rest });
  };
  const segment = text.slice(0, tokenize(text).find((t) => t.kind === "sep")?.start ?? text.length);
  const colon = segment.indexOf(":");
  // "ACME Corp: 20 x …"; but "N95口罩:200箱" and "单价:30" are items, which the scoring sorts out.
  if (colon > 0 && !FIELD_BEFORE_COLON.test(segment.slice(0, colon))) offer(segment.slice(0, colon), colon + 1);
  // A whole first segment ("ACME Corp, 20 x SKU-1001") only when something follows it or it is labelled.
  if (label || segment.length < text.length) offer(segment, segment.length);
  const chunk = /^[^\s:]*/.exec(segment)?.[0] ?? "";
  offer(chunk, chunk.length);
  // An explicit "客户:" means there is a customer, so "none" is only the last resort.
  if (!label || options.length === 0) options.push({ customer: null, rest: text });
  return options;
}

function isWordsOnly(s: string): boolean {
  const toks = tokenize(s);
  return toks.length > 0 && toks.every((t) => t.kind === "word");
}

function cleanCustomer(s: string): string | null {
  return s.replace(/[\s:.]+$/, "").trim() || null;
}

// ---------------------------------------------------------------- tokens

type Tok =
  | { kind: "word"; start: number; end: number }
  | { kind: "qty"; start: number; end: number; text: string; value: number; unit: string | null }
  | { kind: "mul"; start: number; end: number }
  | { kind: "price"; start: number; end: number; text: string; fen: number | null }
  | { kind: "skip"; start: number; end: number }
  | { kind: "sep"; start: number; end: number };

// Weights and volumes (kg, ml, 斤) are deliberately not units: in "大米5kg 10袋" they are part of the name.
const CN_UNIT = "[箱个件盒包只瓶套袋桶支双台卷张把条罐组提副块]";
const EN_UNIT =
  "(?:pcs|pc|pieces|piece|boxes|box|units|unit|cartons|carton|ctns|ctn|packs|pack|bags|bag|" +
  "bottles|bottle|sets|set|pairs|pair|rolls|roll)(?![a-z])";
const NUMBER = /-?\d+(?:\.\d+)?/y;
const UNIT = new RegExp(`\\s*(${CN_UNIT}|${EN_UNIT})`, "iy");
// A bare number is a quantity only when something clearly ends it; "3层口罩" and "3M" are names.
const QTY_END = /(?:$|[\s,;:×*@¥]|\.(?!\d)|[xX](?![a-z])|单价|价格|售价|每)/iy;
const PER_UNIT = `(?:\\s*\\/\\s*(?:${CN_UNIT}|${EN_UNIT}))?`;
const CURRENCY = "(?:\\s*(?:元|块|rmb|yuan|cny)(?![a-z]))?"; // 块 is money only after a price marker
const AMOUNT = new RegExp(
  `\\s*:?\\s*(?:¥\\s*)?(\\d+(?:\\.\\d+)?)${CURRENCY}${PER_UNIT}(?:\\s*(?:each|ea)(?![a-z]))?`,
  "iy",
);
const YUAN_PRICE = new RegExp(`(?:¥\\s*(\\d+(?:\\.\\d+)?)(?:\\s*元)?|(\\d+(?:\\.\\d+)?)\\s*元)${PER_UNIT}`, "iy");
const BAD_AMOUNT = /\s*:?\s*([^\s,;\n]*)/y;
const STRONG_MARKER = /(?:单价|价格|售价|价钱|@)/y; // a price must follow; anything else is reported
const WEAK_MARKER = new RegExp(`每${CN_UNIT}`, "y"); // only a marker when an amount follows
const WEAK_WORD_MARKER = /(?:价|at(?![a-z])|(?:unit\s+)?price(?![a-z]))/iy; // and only at a word's start
const QTY_LABEL = /(?:数量|qty(?![a-z]))\s*:?\s*(?=-?\d)/iy;
const ASCII_WORDISH = /[A-Za-z0-9_\-./#]/;

function sticky(re: RegExp, s: string, at: number): RegExpExecArray | null {
  re.lastIndex = at;
  return re.exec(s);
}

/** Splits an order body into words, quantities, "x" markers, prices and separators. */
function tokenize(s: string): Tok[] {
  const toks: Tok[] = [];
  let wordStart = -1;
  const endWord = (at: number) => {
    if (wordStart >= 0) toks.push({ kind: "word", start: wordStart, end: at });
    wordStart = -1;
  };
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c === ":" || (/\s/.test(c) && c !== "\n")) {
      endWord(i);
      i++;
      continue;
    }
    if (isSeparator(s, i)) {
      endWord(i);
      toks.push({ kind: "sep", start: i, end: i + 1 });
      i++;
      continue;
    }
    const fresh = wordStart < 0;
    const tok = specialAt(s, i, fresh, fresh || !ASCII_WORDISH.test(s[i - 1]));
    if (tok) {
      endWord(i);
      toks.push(tok);
      i = tok.end;
      continue;
    }
    if (wordStart < 0) wordStart = i;
    i++;
  }
  endWord(s.length);
  return toks;
}

function isSeparator(s: string, i: number): boolean {
  const c = s[i];
  if (c === "," || c === ";" || c === "\n") return true;
  if (c !== ".") return false;
  if (/\d/.test(s[i - 1] ?? "") && /\d/.test(s[i + 1] ?? "")) return false; // 12.5
  // A full stop next to Chinese text ends a sentence (it was "。"); "Co.Ltd" stays a word.
  const [before, next] = [s[i - 1] ?? " ", s[i + 1] ?? " "];
  return /\s/.test(next) || next.charCodeAt(0) > 0x7f || before.charCodeAt(0) > 0x7f;
}

/** A token starting at i, if one does; `fresh`: no word in progress; `canStart`: not inside an ASCII code. */
function specialAt(s: string, i: number, fresh: boolean, canStart: boolean): Tok | null {
  const c = s[i];
  if (c === "@" || (canStart && sticky(STRONG_MARKER, s, i))) {
    const marker = c === "@" ? i + 1 : STRONG_MARKER.lastIndex;
    return priceAfter(s, i, marker) ?? badPrice(s, i, marker);
  }
  if (c === "×" || c === "*" || (canStart && (c === "x" || c === "X"))) {
    // "M3×10螺丝" is a name: the sign must be followed by a real quantity or stand on its own.
    const alone = /\s/.test(s[i + 1] ?? " ") && (fresh || (c !== "x" && c !== "X"));
    let after = i + 1;
    while (s[after] === " ") after++;
    if (alone || readQty(s, after, true)) return { kind: "mul", start: i, end: i + 1 };
  }
  if (!canStart) return null;
  const label = sticky(QTY_LABEL, s, i);
  if (label) return { kind: "skip", start: i, end: QTY_LABEL.lastIndex };
  if (sticky(WEAK_MARKER, s, i) || (fresh && sticky(WEAK_WORD_MARKER, s, i))) {
    const markerEnd = s[i] === "每" ? i + 2 : WEAK_WORD_MARKER.lastIndex;
    const price = priceAfter(s, i, markerEnd);
    if (price) return price;
  }
  const yuan = sticky(YUAN_PRICE, s, i);
  if (yuan) {
    const amount = yuan[1] ?? yuan[2];
    return { kind: "price", start: i, end: YUAN_PRICE.lastIndex, text: amount, fen: yuanToFen(amount) };
  }
  return readQty(s, i, fresh);
}

function priceAfter(s: string, start: number, markerEnd: number): Tok | null {
  const m = sticky(AMOUNT, s, markerEnd);
  if (!m) return null;
  return { kind: "price", start, end: AMOUNT.lastIndex, text: m[1], fen: yuanToFen(m[1]) };
}

function badPrice(s: string, start: number, markerEnd: number): Tok {
  const m = sticky(BAD_AMOUNT, s, markerEnd) as RegExpExecArray; // matches the empty string at worst
  return { kind: "price", start, end: BAD_AMOUNT.lastIndex, text: m[1], fen: null };
}

function readQty(s: string, i: number, signed: boolean): Tok | null {
  const num = sticky(NUMBER, s, i);
  if (!num || (!signed && num[0].startsWith("-"))) return null;
  const end = NUMBER.lastIndex;
  const unit = sticky(UNIT, s, end);
  if (unit) {
    const unitText = unit[1].toLowerCase();
    return { kind: "qty", start: i, end: UNIT.lastIndex, text: num[0], value: Number(num[0]), unit: unitText };
  }
  if (!sticky(QTY_END, s, end)) return null;
  return { kind: "qty", start: i, end, text: num[0], value: Number(num[0]), unit: null };
}

// ---------------------------------------------------------------- items

type WordTok = Extract<Tok, { kind: "word" }>;
type QtyTok = Extract<Tok, { kind: "qty" }>;
type PriceTok = Extract<Tok, { kind: "price" }>;

interface Draft {
  toks: Tok[];
  words: WordTok[];
  qty: QtyTok | null;
  prices: PriceTok[];
  mul: boolean;
  qtyFirst: boolean;
}

function draftOf(tok: Tok): Draft {
  const d: Draft = { toks: [tok], words: [], qty: null, prices: [], mul: false, qtyFirst: false };
  if (tok.kind === "word") d.words.push(tok);
  if (tok.kind === "qty") [d.qty, d.qtyFirst] = [tok, true];
  if (tok.kind === "price") d.prices.push(tok);
  if (tok.kind === "mul") d.mul = true;
  return d;
}

/** Groups tokens into items: "<name> <qty>", "<name> x <qty>", "<qty> x? <name>", each with an optional price. */
function groupItems(text: string, toks: Tok[]): { lines: ParsedLine[]; problems: string[] } {
  const drafts: Draft[] = [];
  let cur: Draft | null = null;
  let prev: Tok["kind"] | null = null;
  for (const tok of toks) {
    if (tok.kind === "skip") continue;
    if (tok.kind === "sep") cur = null;
    else if (!cur) cur = startOrAttach(drafts, tok);
    else if (!extend(cur, tok, prev, text)) {
      const previous: Draft = cur;
      cur = begin(drafts, tok);
      if (tok.kind === "mul" && prev === "word") moveLastWord(previous, cur);
    }
    prev = tok.kind;
  }
  const lines: ParsedLine[] = [];
  const problems: string[] = [];
  for (const d of drafts) checkDraft(text, d, lines, problems);
  return { lines, problems };
}

function begin(drafts: Draft[], tok: Tok): Draft {
  const d = draftOf(tok);
  drafts.push(d);
  return d;
}

/** After a separator: "N95口罩 200箱, 单价30" — a lone price belongs to the item just before it. */
function startOrAttach(drafts: Draft[], tok: Tok): Draft | null {
  const last = drafts[drafts.length - 1];
  if (tok.kind === "price" && last?.qty && last.words.length > 0 && last.prices.length === 0) {
    add(last, tok);
    return null;
  }
  return begin(drafts, tok);
}

/** Adds tok to the item being read when it fits there; false when it starts the next item. */
function extend(d: Draft, tok: Tok, prev: Tok["kind"] | null, text: string): boolean {
  switch (tok.kind) {
    case "word":
      if (d.qty === null) {
        if (d.mul && d.words.length > 0) return false; // "手套 x 蓝色": the x had no number
        add(d, tok);
        return true;
      }
      if (!d.qtyFirst || (d.words.length > 0 && prev !== "word")) return false;
      if (d.words.length === 0 && /^of$/i.test(text.slice(tok.start, tok.end))) return true; // "3 boxes of gloves"
      add(d, tok);
      return true;
    case "qty":
      if (d.qty !== null) return false;
      d.qty = tok;
      d.qtyFirst = d.words.length === 0;
      d.toks.push(tok);
      return true;
    case "mul":
      if (d.mul || !((d.qty === null && d.words.length > 0) || (d.qtyFirst && d.words.length === 0))) return false;
      d.mul = true;
      d.toks.push(tok);
      return true;
    case "price":
      add(d, tok);
      return true;
    default:
      return false;
  }
}

/** "10 pcs SKU-1001 SKU-2002 x 5": the word just before a second "x" names the next item. */
function moveLastWord(from: Draft, to: Draft): void {
  if (!from.qtyFirst || from.words.length < 2) return;
  const moved = from.words.pop() as WordTok;
  from.toks.splice(from.toks.indexOf(moved), 1);
  to.words.push(moved);
  to.toks.unshift(moved);
}

function add(d: Draft, tok: Tok): void {
  d.toks.push(tok);
  if (tok.kind === "word") d.words.push(tok);
  if (tok.kind === "price") d.prices.push(tok);
}

/** Turns a draft into a line, or into problems: a missing or odd number is reported, never guessed. */
function checkDraft(text: string, d: Draft, lines: ParsedLine[], problems: string[]): void {
  // A reduce, not Math.min(...spread): a pasted wall of words must not overflow the call stack.
  const first = d.toks.reduce((at, t) => Math.min(at, t.start), Infinity);
  const last = d.toks.reduce((at, t) => Math.max(at, t.end), 0);
  const raw = text.slice(first, last).trim();
  const name = d.words
    .map((w, k) => (k > 0 && w.start > d.words[k - 1].end ? " " : "") + text.slice(w.start, w.end))
    .join("");
  if (!name) {
    if (d.qty) problems.push(`“${raw}”缺少商品名称`);
    else if (d.prices.length > 0) problems.push(`单价“${d.prices[0].text}”没有对应的商品`);
    else problems.push(`无法识别“${raw}”`);
    return;
  }
  const before = problems.length;
  if (!d.qty) problems.push(`“${name}”缺少数量`);
  else if (!Number.isSafeInteger(d.qty.value) || d.qty.value <= 0) {
    problems.push(`“${name}”的数量“${d.qty.text}”无效，应为正整数`);
  }
  const [price] = d.prices;
  if (d.prices.length > 1) problems.push(`“${name}”写了多个单价`);
  else if (price && price.fen === null) {
    problems.push(price.text ? `“${name}”的单价“${price.text}”无法识别` : `“${name}”的单价缺少金额`);
  }
  if (problems.length > before || !d.qty) return;
  lines.push({ product: name, qty: d.qty.value, unit: d.qty.unit, unitPriceFen: price?.fen ?? null, raw });
}
