import { Op, type Transaction } from "sequelize";
import { DomainError } from "../../domain/errors";
import type { CustomerRow } from "../../db/models/customers";
import type { ProductRow } from "../../db/models/products";
import type { ServiceDeps } from "../deps";

export interface LineInput {
  sku?: string;
  productId?: number;
  qty: number;
  /** Omitted: the list price. */
  unitPriceFen?: number | null;
}

export const MAX_LINES = 200;
export const MAX_QTY = 1_000_000;
export const MAX_PRICE_FEN = 100_000_000_00;

export interface NewLine {
  lineNo: number;
  productId: number;
  sku: string;
  name: string;
  unit: string;
  category: string | null;
  listPriceFen: number;
  floorPriceFen: number | null;
  unitPriceFen: number;
  qty: number;
  lineTotalFen: number;
}

/** Looks up each line's product and snapshots its name and prices; 422 naming the first bad line. */
export async function buildLines(deps: ServiceDeps, inputs: LineInput[], tx?: Transaction): Promise<{ lines: NewLine[]; totalFen: number }> {
  checkLineCount(inputs);
  return linesFrom(await fetchProducts(deps, [inputs], tx), inputs);
}

/** The products every one of these orders names, in one query (a batch of orders shares it). */
export async function fetchProducts(deps: ServiceDeps, orders: LineInput[][], tx?: Transaction): Promise<ProductIndex> {
  const skus = [...new Set(orders.flatMap((lines) => lines.flatMap((l) => (l.sku ? [l.sku] : []))))];
  const ids = [...new Set(orders.flatMap((lines) => lines.flatMap((l) => (l.productId ? [l.productId] : []))))];
  const products =
    skus.length || ids.length
      ? await deps.db.models.Product.findAll({
          where: { [Op.or]: [{ sku: { [Op.in]: skus } }, { id: { [Op.in]: ids } }] },
          transaction: tx,
        })
      : [];
  return { bySku: new Map(products.map((p) => [p.sku.toUpperCase(), p])), byId: new Map(products.map((p) => [p.id, p])) };
}

export interface ProductIndex {
  bySku: Map<string, ProductRow>;
  byId: Map<number, ProductRow>;
}

export function checkLineCount(inputs: LineInput[]): void {
  if (inputs.length === 0) throw new DomainError("validation_failed", "an order needs at least one line", { path: "lines" });
  if (inputs.length > MAX_LINES) {
    throw new DomainError("validation_failed", `an order has at most ${MAX_LINES} lines`, { path: "lines" });
  }
}

/** The order's lines from products already fetched; 422 naming the first bad line. */
export function linesFrom(products: ProductIndex, inputs: LineInput[]): { lines: NewLine[]; totalFen: number } {
  checkLineCount(inputs);
  let totalFen = 0;
  const lines = inputs.map((input, i) => {
    const product = input.productId ? products.byId.get(input.productId) : products.bySku.get((input.sku ?? "").toUpperCase());
    const field = input.productId ? "productId" : "sku";
    if (!product || !product.active) {
      throw new DomainError("validation_failed", `unknown product ${input.sku ?? input.productId}`, {
        path: `lines.${i}.${field}`,
      });
    }
    if (!Number.isSafeInteger(input.qty) || input.qty < 1 || input.qty > MAX_QTY) {
      throw new DomainError("validation_failed", `quantity must be a whole number from 1 to ${MAX_QTY}`, { path: `lines.${i}.qty` });
    }
    const unitPriceFen = input.unitPriceFen ?? product.listPriceFen;
    if (!Number.isSafeInteger(unitPriceFen) || unitPriceFen < 0 || unitPriceFen > MAX_PRICE_FEN) {
      throw new DomainError("validation_failed", "unit price must be a whole number of fen, 0 or more", {
        path: `lines.${i}.unitPriceFen`,
      });
    }
    const total = unitPriceFen * input.qty;
    if (!Number.isSafeInteger(total)) {
      throw new DomainError("validation_failed", "line total is too large", { path: `lines.${i}.qty` });
    }
    totalFen += total;
    return {
      lineNo: i + 1,
      productId: product.id,
      sku: product.sku,
      name: product.name,
      unit: product.unit,
      category: product.category,
      listPriceFen: product.listPriceFen,
      floorPriceFen: product.floorPriceFen,
      unitPriceFen,
      qty: input.qty,
      lineTotalFen: total,
    };
  });
  if (!Number.isSafeInteger(totalFen)) throw new DomainError("validation_failed", "order total out of range", { path: "lines" });
  return { lines, totalFen };
}

/** Finds an active customer by code or id; 422 naming the field when there is none. */
export async function findCustomer(deps: ServiceDeps, ref: { customerCode?: string; customerId?: number }, tx?: Transaction): Promise<CustomerRow> {
  const where = ref.customerId ? { id: ref.customerId } : { code: ref.customerCode ?? "" };
  const customer = await deps.db.models.Customer.findOne({ where, transaction: tx });
  if (!customer || !customer.active) {
    const path = ref.customerId ? "customerId" : "customerCode";
    throw new DomainError("validation_failed", `unknown customer ${ref.customerCode ?? ref.customerId ?? ""}`.trim(), { path });
  }
  return customer;
}
