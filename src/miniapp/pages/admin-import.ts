import type Router from "@koa/router";
import { loadExcel } from "../excel";
import type { Context } from "koa";
import { z } from "zod";
import { DomainError } from "../../domain/errors";
import type { Actor } from "../../domain/roles";
import { formatFen } from "../../domain/money";
import { statusLabel, t } from "../../domain/i18n";
import { ORDER_STATUSES } from "../../domain/order-state";
import { formatShanghai } from "../../domain/time";
import { parse } from "../../http/parse";
import type { StockCount } from "../../services/adjust-stock";
import type { CustomerInput } from "../../services/upsert-customers";
import type { ProductInput } from "../../services/upsert-products";
import { IMPORT_KINDS, UnreadableWorkbook, importWords, parseImport, type BadRow, type ImportKind } from "../excel-import";
import type { PageContext } from "../page";
import { localeOfCtx, viewerOf } from "../page";
import { requireAdmin } from "./admin";

const MAX_UPLOAD_BYTES = 5 * 1024 * 1024;
const XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const ImportParams = z.object({ kind: z.enum(IMPORT_KINDS) });
const ImportQuery = z.object({ mode: z.enum(["preview", "apply"]) });
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const ExportQuery = z.object({
  status: z.union([z.enum(ORDER_STATUSES), z.literal("")]).optional(),
  from: z.union([z.string().regex(DAY), z.literal("")]).optional(),
  to: z.union([z.string().regex(DAY), z.literal("")]).optional(),
  q: z.string().trim().max(64).optional(),
});
const MAX_EXPORT_ROWS = 20_000;
const shanghaiDay = (day: string, plusDays = 0) => new Date(Date.parse(`${day}T00:00:00+08:00`) + plusDays * 86_400_000);

/**
 * /m/admin/import: an .xlsx is POSTed as the raw body (the page's script sends the file with the CSRF
 * header); `mode=preview` is the dry run listing every bad row, `mode=apply` checks again and writes
 * all rows in one transaction or none. Both answer an HTML fragment the page shows.
 * /m/admin/export: the orders matching the list's filters as an .xlsx.
 */
export function adminImportPages(router: Router, { deps, render }: PageContext): void {
  router.get("/admin/import", async function importPage(ctx) {
    requireAdmin(ctx);
    render(ctx, "m/admin-import.njk", { title: t(localeOfCtx(ctx), "import.title"), back: "/m/admin", kinds: IMPORT_KINDS, statuses: ORDER_STATUSES });
  });

  router.post("/admin/import/:kind", async function importExcel(ctx) {
    requireAdmin(ctx);
    const locale = localeOfCtx(ctx);
    const { kind } = parse(ImportParams, ctx.params, "params");
    const { mode } = parse(ImportQuery, ctx.query, "query");
    const buffer = await rawBody(ctx);
    // The dry run answers 200 whatever it found (it did its job; the page shows the bad rows); an apply
    // refused for bad rows answers 422.
    const fragment = (data: Record<string, unknown>, status = 200) => render(ctx, "m/partials/import-result.njk", { kind, mode, ...data }, mode === "preview" ? 200 : status);
    let parsed;
    try {
      parsed = await parseImport(kind, buffer, locale, (skus) => deps.services.knownSkus(skus));
    } catch (err) {
      if (err instanceof UnreadableWorkbook) return fragment({ bad: [{ row: 0, reason: err.message }], count: 0 }, 422);
      throw err;
    }
    if (parsed.bad.length) return fragment({ bad: parsed.bad, count: parsed.rows.length }, 422);
    if (mode === "preview") return fragment({ bad: [], count: parsed.rows.length, sample: parsed.rows.slice(0, 5).map((r) => ({ row: r.row, text: describe(kind, r.value) })) });
    try {
      await apply(kind, parsed.rows.map((r) => r.value), viewerOf(ctx).actor);
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      // The services refuse the whole batch; a row they name is shown with its Excel row number.
      const index = Number(String(err.details?.path ?? "").split(".")[0]);
      const row = Number.isInteger(index) && parsed.rows[index] ? parsed.rows[index].row : 0;
      const w = importWords(locale);
      const reason = err.code === "conflict" ? w.barcodeTaken : err.code === "on_hand_below_reserved" ? `${w.belowReserved}（${err.message}）` : err.message;
      const bad: BadRow[] = [{ row, reason }];
      return fragment({ bad, count: 0 }, 422);
    }
    fragment({ bad: [], count: parsed.rows.length, applied: true });
  });

  router.get("/admin/export", async function exportOrders(ctx) {
    requireAdmin(ctx);
    const locale = localeOfCtx(ctx);
    const q = parse(ExportQuery, ctx.query, "query");
    const filter = {
      status: q.status ? [q.status] : undefined,
      from: q.from ? shanghaiDay(q.from) : undefined,
      to: q.to ? shanghaiDay(q.to, 1) : undefined,
      search: q.q || undefined,
    };
    const book = new (loadExcel().Workbook)();
    const sheet = book.addWorksheet(t(locale, "export.sheet"));
    sheet.columns = [
      { header: t(locale, "export.orderNo"), key: "orderNo", width: 20 },
      { header: t(locale, "export.status"), key: "status", width: 12 },
      { header: t(locale, "export.customerCode"), key: "customerCode", width: 14 },
      { header: t(locale, "export.customer"), key: "customer", width: 28 },
      { header: t(locale, "export.rep"), key: "rep", width: 12 },
      { header: t(locale, "export.total"), key: "total", width: 14, style: { numFmt: "#,##0.00" } },
      { header: t(locale, "export.paid"), key: "paid", width: 14, style: { numFmt: "#,##0.00" } },
      { header: t(locale, "export.createdAt"), key: "createdAt", width: 18 },
      { header: t(locale, "export.submittedAt"), key: "submittedAt", width: 18 },
      { header: t(locale, "export.shippedAt"), key: "shippedAt", width: 18 },
    ];
    sheet.getRow(1).font = { bold: true };
    let cursor: string | undefined;
    let count = 0;
    do {
      const page = await deps.services.listOrders({ ...filter, cursor, limit: 200 });
      for (const o of page.items) {
        sheet.addRow({
          orderNo: o.orderNo,
          status: statusLabel(o.status, locale),
          customerCode: o.customer.code,
          customer: o.customer.name,
          rep: o.salesRep?.name ?? "",
          total: o.totalFen / 100,
          paid: o.paidFen / 100,
          createdAt: formatShanghai(new Date(o.createdAt)),
          submittedAt: o.submittedAt ? formatShanghai(new Date(o.submittedAt)) : "",
          shippedAt: o.shippedAt ? formatShanghai(new Date(o.shippedAt)) : "",
        });
      }
      count += page.items.length;
      cursor = page.nextCursor ?? undefined;
    } while (cursor && count < MAX_EXPORT_ROWS);
    const day = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
    ctx.set("Content-Disposition", `attachment; filename="orders-${day}.xlsx"`);
    ctx.set("Cache-Control", "no-store");
    ctx.type = XLSX;
    ctx.body = Buffer.from(await book.xlsx.writeBuffer());
  });

  async function apply(kind: ImportKind, values: unknown[], actor: Actor): Promise<void> {
    if (kind === "products") await deps.services.upsertProducts(values as ProductInput[], actor);
    else if (kind === "customers") await deps.services.upsertCustomers(values as CustomerInput[], actor);
    else await deps.services.setStockMany(values as StockCount[], actor);
  }
}

/** The upload, read up to MAX_UPLOAD_BYTES; anything larger is refused before it is parsed. */
async function rawBody(ctx: Context): Promise<Buffer> {
  const declared = Number(ctx.get("content-length") || 0);
  if (declared > MAX_UPLOAD_BYTES) throw new DomainError("validation_failed", importWords(localeOfCtx(ctx)).tooBig, { path: "file", localized: true });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > MAX_UPLOAD_BYTES) throw new DomainError("validation_failed", importWords(localeOfCtx(ctx)).tooBig, { path: "file", localized: true });
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** One line of the preview: what a row will become. */
function describe(kind: ImportKind, v: unknown): string {
  if (kind === "products") {
    const p = v as ProductInput;
    return `${p.sku} · ${p.name} · ${formatFen(p.listPriceFen)}`;
  }
  if (kind === "customers") {
    const c = v as CustomerInput;
    return `${c.code} · ${c.name}`;
  }
  const s = v as StockCount;
  return `${s.sku} · ${s.onHand}`;
}
