import { Op } from "sequelize";
import type { Matchable } from "../domain/catalog-match";
import type { StockItem } from "../domain/cards";
import type { ServiceDeps } from "../services/deps";

/** A product as the bot matches it: the sku is its code. */
export interface ProductCandidate extends Matchable {
  unit: string;
}

/** Active customers as matching candidates (code and name). */
export async function customerCandidates(deps: ServiceDeps): Promise<Matchable[]> {
  const rows = await deps.db.models.Customer.findAll({
    where: { active: true },
    attributes: ["id", "code", "name"],
    order: [["id", "ASC"]],
  });
  return rows.map((c) => ({ id: c.id, code: c.code, name: c.name }));
}

/** Active products as matching candidates (sku, name and barcode). */
export async function productCandidates(deps: ServiceDeps): Promise<ProductCandidate[]> {
  const rows = await deps.db.models.Product.findAll({
    where: { active: true },
    attributes: ["id", "sku", "name", "barcode", "unit"],
    order: [["id", "ASC"]],
  });
  return rows.map((p) => ({ id: p.id, code: p.sku, name: p.name, barcode: p.barcode, unit: p.unit }));
}

/** Customers this rep ordered for most recently, newest first, each once. */
export async function recentCustomers(deps: ServiceDeps, salesRepId: number, max = 5): Promise<Matchable[]> {
  const m = deps.db.models;
  // A rep's last 50 orders nearly always name 5 distinct customers; scanning further is not worth it.
  const orders = await m.Order.findAll({
    where: { salesRepId },
    attributes: ["customerId"],
    order: [["id", "DESC"]],
    limit: 50,
  });
  const ids = [...new Set(orders.map((o) => o.customerId))];
  if (ids.length === 0) return [];
  const rows = await m.Customer.findAll({ where: { id: { [Op.in]: ids }, active: true }, attributes: ["id", "code", "name"] });
  const byId = new Map(rows.map((c) => [c.id, { id: c.id, code: c.code, name: c.name }]));
  return ids.flatMap((id) => byId.get(id) ?? []).slice(0, max);
}

/** Available (on hand − reserved) per product id; products without a stock row are left out. */
export async function availableByProductId(deps: ServiceDeps, productIds: number[]): Promise<Record<number, number>> {
  if (productIds.length === 0) return {};
  const levels = await deps.db.models.StockLevel.findAll({ where: { productId: { [Op.in]: productIds } } });
  return Object.fromEntries(levels.map((l) => [l.productId, l.onHand - l.reserved]));
}

/** Stock card items for the given products, in the order given; no stock row reads as zero. */
export async function stockItems(deps: ServiceDeps, products: ProductCandidate[]): Promise<StockItem[]> {
  if (products.length === 0) return [];
  const levels = await deps.db.models.StockLevel.findAll({ where: { productId: { [Op.in]: products.map((p) => p.id) } } });
  const levelOf = new Map(levels.map((l) => [l.productId, l]));
  return products.map((p) => {
    const level = levelOf.get(p.id);
    const onHand = level?.onHand ?? 0;
    const reserved = level?.reserved ?? 0;
    return { sku: p.code, name: p.name, unit: p.unit, onHand, reserved, available: onHand - reserved, safetyStock: level?.safetyStock ?? 0 };
  });
}
