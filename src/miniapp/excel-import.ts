import { loadExcel, type ExcelJS } from "./excel";
import { z } from "zod";
import type { Locale } from "../domain/i18n";
import { yuanToFen } from "../domain/money";
import type { StockCount } from "../services/adjust-stock";
import type { CustomerInput } from "../services/upsert-customers";
import type { ProductInput } from "../services/upsert-products";

export const IMPORT_KINDS = ["products", "customers", "stock"] as const;
export type ImportKind = (typeof IMPORT_KINDS)[number];
export const MAX_IMPORT_ROWS = 1000;

/** A bad row: its number as Excel shows it (the header is row 1) and why, in the viewer's language. */
export interface BadRow {
  row: number;
  reason: string;
}

export type Parsed<K extends ImportKind> = { rows: Array<{ row: number; value: RowOf<K> }>; bad: BadRow[] };
type RowOf<K extends ImportKind> = K extends "products" ? ProductInput : K extends "customers" ? CustomerInput : StockCount;

/** Columns by header, Chinese or English; the first header row names them, in any order. */
const COLUMNS: Record<ImportKind, Record<string, string[]>> = {
  products: {
    sku: ["sku", "SKU", "商品编码"],
    name: ["name", "名称", "商品名称"],
    barcode: ["barcode", "条码"],
    unit: ["unit", "单位"],
    category: ["category", "分类"],
    listPrice: ["listPrice", "list price", "单价", "售价"],
    floorPrice: ["floorPrice", "floor price", "底价"],
    safetyStock: ["safetyStock", "safety stock", "安全库存"],
  },
  customers: {
    code: ["code", "编码", "客户编码"],
    name: ["name", "名称", "客户名称"],
    level: ["level", "等级"],
    creditLimit: ["creditLimit", "credit limit", "信用额度"],
    contactName: ["contactName", "contact", "联系人"],
    phone: ["phone", "电话"],
    address: ["address", "地址"],
    paymentTermsDays: ["paymentTermsDays", "payment terms", "账期天数", "账期"],
  },
  stock: {
    sku: ["sku", "SKU", "商品编码"],
    onHand: ["onHand", "on hand", "库存", "在库数量"],
    safetyStock: ["safetyStock", "safety stock", "安全库存"],
  },
};

const REQUIRED: Record<ImportKind, string[]> = { products: ["sku", "name", "listPrice"], customers: ["code", "name"], stock: ["sku", "onHand"] };

const WORDS = {
  "zh-CN": {
    tooBig: "文件太大（最大 5 MB）",
    unreadable: "无法读取文件，请上传 .xlsx 格式的 Excel 文件",
    missingColumn: (c: string) => `缺少列：${c}`,
    tooMany: (n: number) => `一次最多导入 ${n} 行`,
    empty: "文件中没有数据行",
    required: (c: string) => `${c} 不能为空`,
    money: (c: string) => `${c} 不是有效金额`,
    integer: (c: string) => `${c} 必须是不小于 0 的整数`,
    tooLong: (c: string) => `${c} 太长`,
    duplicate: (key: string, row: number) => `${key} 与第 ${row} 行重复`,
    floor: "底价不能高于单价",
    unknownSku: (sku: string) => `商品 ${sku} 不存在`,
    barcodeTaken: "条码已被其他商品使用",
    belowReserved: "库存少于已为未完成订单预留的数量",
  },
  en: {
    tooBig: "The file is too large (5 MB at most)",
    unreadable: "The file could not be read; upload an .xlsx Excel workbook",
    missingColumn: (c: string) => `missing column: ${c}`,
    tooMany: (n: number) => `at most ${n} rows at once`,
    empty: "the file has no data rows",
    required: (c: string) => `${c} is required`,
    money: (c: string) => `${c} is not an amount of money`,
    integer: (c: string) => `${c} must be a whole number, 0 or more`,
    tooLong: (c: string) => `${c} is too long`,
    duplicate: (key: string, row: number) => `${key} repeats row ${row}`,
    floor: "the floor price is above the list price",
    unknownSku: (sku: string) => `no product ${sku}`,
    barcodeTaken: "a barcode is already used by another product",
    belowReserved: "the count is below what open orders have reserved",
  },
};
export const importWords = (locale: Locale) => WORDS[locale === "en" ? "en" : "zh-CN"];

export class UnreadableWorkbook extends Error {}

/** The cell's text: numbers, strings, rich text, formulas' results, hyperlinks' text; "" for empty. */
function cellText(v: ExcelJS.CellValue): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "string") return v.trim();
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (v instanceof Date) return v.toISOString();
  if (typeof v === "object") {
    if ("richText" in v) return v.richText.map((r) => r.text).join("").trim();
    if ("result" in v) return cellText(v.result as ExcelJS.CellValue);
    if ("text" in v) return String(v.text).trim();
  }
  return String(v).trim();
}

/** Reads the first sheet of an .xlsx into header-keyed records with their Excel row numbers. */
async function readSheet(buffer: Buffer, kind: ImportKind, locale: Locale): Promise<{ records: Array<{ row: number; cells: Record<string, string> }>; problem: string | null }> {
  const w = importWords(locale);
  const book = new (loadExcel().Workbook)();
  try {
    await book.xlsx.load(buffer as unknown as ArrayBuffer);
  } catch {
    throw new UnreadableWorkbook(w.unreadable);
  }
  const sheet = book.worksheets[0];
  if (!sheet) throw new UnreadableWorkbook(w.unreadable);
  const columns = COLUMNS[kind];
  const at: Record<string, number> = {};
  sheet.getRow(1).eachCell((cell, col) => {
    const header = cellText(cell.value).toLowerCase();
    for (const [key, names] of Object.entries(columns)) if (names.some((n) => n.toLowerCase() === header)) at[key] = col;
  });
  const missing = REQUIRED[kind].find((c) => at[c] === undefined);
  if (missing) return { records: [], problem: w.missingColumn(columns[missing].slice(0, 2).join(" / ")) };
  const records: Array<{ row: number; cells: Record<string, string> }> = [];
  for (let r = 2; r <= sheet.rowCount; r++) {
    const row = sheet.getRow(r);
    const cells = Object.fromEntries(Object.entries(at).map(([key, col]) => [key, cellText(row.getCell(col).value)]));
    if (Object.values(cells).every((v) => v === "")) continue; // blank lines between data are fine
    records.push({ row: r, cells });
  }
  if (records.length === 0) return { records, problem: w.empty };
  if (records.length > MAX_IMPORT_ROWS) return { records: [], problem: w.tooMany(MAX_IMPORT_ROWS) };
  return { records, problem: null };
}

/**
 * The dry run: every row checked, every bad one listed with its reason (not just the first).
 * `skuExists` answers for stock rows. A file-level problem (missing column, too many rows) is row 1.
 */
export async function parseImport<K extends ImportKind>(kind: K, buffer: Buffer, locale: Locale, skuExists: (skus: string[]) => Promise<Set<string>>): Promise<Parsed<K>> {
  const w = importWords(locale);
  const { records, problem } = await readSheet(buffer, kind, locale);
  if (problem) return { rows: [], bad: [{ row: 1, reason: problem }] };
  const labels = COLUMNS[kind];
  // The column as the viewer reads it: its English header, or its first Chinese one.
  const label = (key: string) => (locale === "en" ? labels[key][0] : (labels[key].find((n) => /[\u4e00-\u9fff]/.test(n)) ?? labels[key][0]));
  const rows: Array<{ row: number; value: RowOf<K> }> = [];
  const bad: BadRow[] = [];
  const firstRowOf = new Map<string, number>();
  const barcodeRow = new Map<string, number>();
  for (const { row, cells } of records) {
    const reasons: string[] = [];
    const text = (key: string, max: number, required = false): string | null => {
      const v = cells[key] ?? "";
      if (v === "") {
        if (required) reasons.push(w.required(label(key)));
        return null;
      }
      if (v.length > max) reasons.push(w.tooLong(label(key)));
      return v;
    };
    const money = (key: string, required = false): number | null => {
      const v = cells[key] ?? "";
      if (v === "") {
        if (required) reasons.push(w.required(label(key)));
        return null;
      }
      const fen = yuanToFen(v);
      if (fen === null) reasons.push(w.money(label(key)));
      return fen;
    };
    const count = (key: string, required = false): number | undefined => {
      const v = cells[key] ?? "";
      if (v === "") {
        if (required) reasons.push(w.required(label(key)));
        return undefined;
      }
      const n = z.coerce.number().int().min(0).max(1e9).safeParse(v);
      if (!n.success) reasons.push(w.integer(label(key)));
      return n.success ? n.data : undefined;
    };
    let value: ProductInput | CustomerInput | StockCount;
    let key: string;
    if (kind === "products") {
      const sku = text("sku", 64, true);
      const listPriceFen = money("listPrice", true);
      const floorPriceFen = money("floorPrice");
      if (listPriceFen !== null && floorPriceFen !== null && floorPriceFen > listPriceFen) reasons.push(w.floor);
      const barcode = cells.barcode ?? "";
      if (barcode) {
        const first = barcodeRow.get(barcode);
        if (first !== undefined) reasons.push(w.duplicate(barcode, first));
        else barcodeRow.set(barcode, row);
      }
      value = {
        sku: sku ?? "",
        name: text("name", 200, true) ?? "",
        barcode: text("barcode", 64),
        unit: text("unit", 16) ?? undefined,
        category: text("category", 64),
        listPriceFen: listPriceFen ?? 0,
        floorPriceFen,
        safetyStock: count("safetyStock"),
      };
      key = (sku ?? "").toUpperCase();
    } else if (kind === "customers") {
      const code = text("code", 64, true);
      const terms = count("paymentTermsDays");
      value = {
        code: code ?? "",
        name: text("name", 200, true) ?? "",
        level: text("level", 16),
        creditLimitFen: money("creditLimit"),
        contactName: text("contactName", 64),
        phone: text("phone", 32),
        address: text("address", 255),
        ...(terms === undefined ? {} : { paymentTermsDays: terms }),
      };
      key = (code ?? "").toLowerCase();
    } else {
      const sku = text("sku", 64, true);
      value = { sku: sku ?? "", onHand: count("onHand", true) ?? 0, safetyStock: count("safetyStock"), reason: "excel import" };
      key = (sku ?? "").toUpperCase();
    }
    if (key) {
      const first = firstRowOf.get(key);
      if (first !== undefined) reasons.push(w.duplicate(cells[kind === "customers" ? "code" : "sku"], first));
      else firstRowOf.set(key, row);
    }
    if (reasons.length) bad.push({ row, reason: reasons.join("；") });
    else rows.push({ row, value: value as RowOf<K> });
  }
  if (kind === "stock" && rows.length) {
    const known = await skuExists(rows.map((r) => (r.value as StockCount).sku));
    for (const r of [...rows]) {
      const sku = (r.value as StockCount).sku;
      if (!known.has(sku.toUpperCase())) {
        bad.push({ row: r.row, reason: w.unknownSku(sku) });
        rows.splice(rows.indexOf(r), 1);
      }
    }
    bad.sort((a, b) => a.row - b.row);
  }
  return { rows, bad };
}
