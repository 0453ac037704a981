import { Op, type WhereOptions } from "sequelize";
import type { ProductRow } from "../db/models/products";
import type { CustomerRow } from "../db/models/customers";
import type { ServiceDeps } from "./deps";
import { decodeCursor, encodeCursor, type Page } from "./list-orders";
import { containsText } from "./support/text-match";
import { presentProduct, type ProductView } from "./upsert-products";
import { presentCustomer, type CustomerView } from "./upsert-customers";

interface ListInput {
  q?: string;
  cursor?: string;
  limit?: number;
}

/** Products by id, optionally filtered by sku/name/barcode fragment, with their stock. */
export async function listProducts(deps: ServiceDeps, input: ListInput): Promise<Page<ProductView>> {
  const m = deps.db.models;
  const limit = Math.min(Math.max(input.limit ?? 100, 1), 500);
  const where: WhereOptions<ProductRow>[] = [];
  if (input.cursor) where.push({ id: { [Op.gt]: decodeCursor(input.cursor) } });
  if (input.q) {
    const q = input.q.trim();
    where.push({ [Op.or]: [containsText("sku", q), containsText("name", q), containsText("barcode", q)] } as WhereOptions<ProductRow>);
  }
  const rows = await m.Product.findAll({ where: { [Op.and]: where }, order: [["id", "ASC"]], limit: limit + 1 });
  const page = rows.slice(0, limit);
  const levels = page.length ? await m.StockLevel.findAll({ where: { productId: { [Op.in]: page.map((p) => p.id) } } }) : [];
  const stockOf = new Map(levels.map((l) => [l.productId, l]));
  return {
    items: page.map((p) => presentProduct(p, stockOf.get(p.id))),
    nextCursor: rows.length > limit ? encodeCursor(page[page.length - 1].id) : null,
  };
}

/** Customers by id, optionally filtered by code/name fragment. */
export async function listCustomers(deps: ServiceDeps, input: ListInput): Promise<Page<CustomerView>> {
  const limit = Math.min(Math.max(input.limit ?? 100, 1), 500);
  const where: WhereOptions<CustomerRow>[] = [];
  if (input.cursor) where.push({ id: { [Op.gt]: decodeCursor(input.cursor) } });
  if (input.q) {
    const q = input.q.trim();
    where.push({ [Op.or]: [containsText("code", q), containsText("name", q)] } as WhereOptions<CustomerRow>);
  }
  const rows = await deps.db.models.Customer.findAll({ where: { [Op.and]: where }, order: [["id", "ASC"]], limit: limit + 1 });
  const page = rows.slice(0, limit);
  return {
    items: page.map(presentCustomer),
    nextCursor: rows.length > limit ? encodeCursor(page[page.length - 1].id) : null,
  };
}
