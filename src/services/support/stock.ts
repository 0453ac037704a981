import { Op, literal, type Transaction } from "sequelize";
import { DomainError } from "../../domain/errors";
import type { ServiceDeps } from "../deps";

export interface StockNeed {
  productId: number;
  sku: string;
  qty: number;
}

/** Sums the quantity per product (an order may list a product twice) in a stable order. */
function byProduct(needs: StockNeed[]): StockNeed[] {
  const merged = new Map<number, StockNeed>();
  for (const n of needs) {
    const prev = merged.get(n.productId);
    merged.set(n.productId, prev ? { ...prev, qty: prev.qty + n.qty } : { ...n });
  }
  // Locking rows in one global order keeps two multi-line orders from deadlocking each other.
  return [...merged.values()].filter((n) => n.qty > 0).sort((a, b) => a.productId - b.productId);
}

/**
 * Reserves every need or none. Each reservation is one conditional UPDATE that cannot take available
 * below zero, so concurrent submits can never oversell; a shortfall lists every short sku.
 */
export async function reserveStock(deps: ServiceDeps, tx: Transaction, needs: StockNeed[]): Promise<void> {
  const { StockLevel } = deps.db.models;
  const short: StockNeed[] = [];
  for (const need of byProduct(needs)) {
    const [count] = await StockLevel.update(
      { reserved: literal(`reserved + ${need.qty}`), updatedAt: deps.now() },
      { where: { productId: need.productId, [Op.and]: literal(`on_hand - reserved >= ${need.qty}`) }, transaction: tx },
    );
    if (count !== 1) short.push(need);
  }
  if (short.length === 0) return;
  const levels = await StockLevel.findAll({ where: { productId: { [Op.in]: short.map((s) => s.productId) } }, transaction: tx });
  throw insufficientStock(short, new Map(levels.map((l) => [l.productId, l.onHand - l.reserved])));
}

/** 409 listing every short sku with what was asked for and what is left. */
function insufficientStock(short: StockNeed[], available: Map<number, number>): DomainError {
  return new DomainError("insufficient_stock", `not enough stock for ${short.map((s) => s.sku).join(", ")}`, {
    items: short.map((s) => ({ sku: s.sku, requested: s.qty, available: Math.max(0, available.get(s.productId) ?? 0) })),
  });
}

/** Gives reserved quantities back (reject, cancel). */
export async function releaseStock(deps: ServiceDeps, tx: Transaction, needs: StockNeed[]): Promise<void> {
  for (const need of byProduct(needs)) {
    await deps.db.models.StockLevel.update(
      { reserved: literal(`CASE WHEN reserved >= ${need.qty} THEN reserved - ${need.qty} ELSE 0 END`), updatedAt: deps.now() },
      { where: { productId: need.productId }, transaction: tx },
    );
  }
}

/** Shipping: the goods leave on_hand and their reservation ends, together. */
export async function takeShippedStock(deps: ServiceDeps, tx: Transaction, needs: StockNeed[]): Promise<void> {
  for (const need of byProduct(needs)) {
    const [count] = await deps.db.models.StockLevel.update(
      {
        onHand: literal(`on_hand - ${need.qty}`),
        reserved: literal(`reserved - ${need.qty}`),
        updatedAt: deps.now(),
      },
      { where: { productId: need.productId, reserved: { [Op.gte]: need.qty }, onHand: { [Op.gte]: need.qty } }, transaction: tx },
    );
    if (count !== 1) {
      throw new DomainError("insufficient_stock", `stock for ${need.sku} does not cover the shipment`, {
        items: [{ sku: need.sku, requested: need.qty }],
      });
    }
  }
}

/**
 * What each product has available (on hand minus reserved) as last committed, without locking: a batch
 * decides with it which of its orders fit, and the guarded UPDATE of reserveStock still has the last
 * word, so a concurrent reservation in between can fail the batch but never oversell.
 * A product without a stock row has nothing available.
 */
export async function readAvailable(deps: ServiceDeps, productIds: number[]): Promise<Map<number, number>> {
  const ids = [...new Set(productIds)];
  const levels = ids.length
    ? await deps.db.models.StockLevel.findAll({ where: { productId: { [Op.in]: ids } }, attributes: ["productId", "onHand", "reserved"] })
    : [];
  const available = new Map(ids.map((id) => [id, 0]));
  for (const l of levels) available.set(l.productId, l.onHand - l.reserved);
  return available;
}

/** The same shortfall error a single reservation gives, from availability already read. */
export function shortfall(needs: StockNeed[], available: Map<number, number>): DomainError | null {
  const short = byProduct(needs).filter((n) => n.qty > (available.get(n.productId) ?? 0));
  return short.length === 0 ? null : insufficientStock(short, available);
}

/** Takes `needs` off availability already read (the batch's running view of the locked rows). */
export function takeFrom(available: Map<number, number>, needs: StockNeed[]): void {
  for (const n of byProduct(needs)) available.set(n.productId, (available.get(n.productId) ?? 0) - n.qty);
}
