import { literal, Op, type Transaction } from "sequelize";
import { DomainError } from "../domain/errors";
import type { Actor } from "../domain/roles";
import type { ServiceDeps } from "./deps";
import { recordAudit } from "./support/audit";
import { lowerIn } from "./support/text-match";

export interface StockView {
  sku: string;
  name: string;
  unit: string;
  onHand: number;
  reserved: number;
  available: number;
  safetyStock: number;
}

/** Current stock of one sku; not_found for an unknown sku. */
export async function getStock(deps: ServiceDeps, sku: string): Promise<StockView> {
  const product = await deps.db.models.Product.findOne({ where: { sku } });
  if (!product) throw new DomainError("not_found", `unknown sku ${sku}`, { sku });
  const level = await deps.db.models.StockLevel.findByPk(product.id);
  return toView(product, level);
}

/**
 * The ERP/WMS counted the warehouse: on_hand becomes `onHand`. A count below what is already reserved
 * for open orders is refused, so available never goes negative; the caller resolves those orders first.
 */
export async function setStock(
  deps: ServiceDeps,
  input: StockCount,
  actor: Actor,
): Promise<StockView> {
  await deps.db.transaction((tx) => countStock(deps, tx, input, actor));
  return getStock(deps, input.sku);
}

export interface StockCount {
  sku: string;
  onHand: number;
  safetyStock?: number;
  reason?: string | null;
}

/**
 * Many counts at once (an Excel import): one transaction, all or nothing, up to 1,000. A refusal names
 * the row index in its path.
 */
export async function setStockMany(deps: ServiceDeps, inputs: StockCount[], actor: Actor): Promise<number> {
  if (inputs.length > 1000) throw new DomainError("validation_failed", "at most 1000 stock counts at once", { path: "length" });
  const seen = new Set<string>();
  inputs.forEach((c, i) => {
    const key = c.sku.toUpperCase();
    if (seen.has(key)) throw new DomainError("validation_failed", `sku ${c.sku} appears twice`, { path: `${i}.sku` });
    seen.add(key);
  });
  await deps.db.transaction(async (tx) => {
    for (const [i, input] of inputs.entries()) {
      try {
        await countStock(deps, tx, input, actor);
      } catch (err) {
        if (err instanceof DomainError) throw new DomainError(err.code, err.message, { ...err.details, path: `${i}.sku`, row: i });
        throw err;
      }
    }
  });
  return inputs.length;
}

/** Which of these skus exist (as stored, compared without letter case), for an import's dry run. */
export async function knownSkus(deps: ServiceDeps, skus: string[]): Promise<Set<string>> {
  if (skus.length === 0) return new Set();
  const rows = await deps.db.models.Product.findAll({ where: lowerIn("sku", skus), attributes: ["sku"] });
  return new Set(rows.map((r) => r.sku.toUpperCase()));
}

async function countStock(deps: ServiceDeps, tx: Transaction, input: StockCount, actor: Actor): Promise<void> {
  const m = deps.db.models;
  const product = await m.Product.findOne({ where: { sku: input.sku }, transaction: tx });
  if (!product) throw new DomainError("not_found", `unknown sku ${input.sku}`, { sku: input.sku });
  const before = await m.StockLevel.findByPk(product.id, { transaction: tx, lock: deps.db.lock });
  const fields = {
    onHand: input.onHand,
    ...(input.safetyStock === undefined ? {} : { safetyStock: input.safetyStock }),
    updatedAt: deps.now(),
  };
  if (!before) {
    await m.StockLevel.create({ productId: product.id, reserved: 0, ...fields }, { transaction: tx });
  } else {
    // Conditional, so a reservation committed between our read and this write cannot be undercut.
    const [count] = await m.StockLevel.update(fields, {
      where: { productId: product.id, [Op.and]: literal(`reserved <= ${Number(input.onHand)}`) },
      transaction: tx,
    });
    if (count !== 1) {
      const now = await m.StockLevel.findByPk(product.id, { transaction: tx });
      throw new DomainError("on_hand_below_reserved", `${input.sku}: ${now?.reserved ?? before.reserved} are reserved for open orders`, {
        sku: input.sku,
        onHand: input.onHand,
        reserved: now?.reserved ?? before.reserved,
      });
    }
  }
  await recordAudit(deps, tx, {
    entity: "stock",
    entityId: input.sku,
    action: "counted",
    actor,
    before: before ? { onHand: before.onHand, safetyStock: before.safetyStock } : null,
    after: { onHand: input.onHand, safetyStock: input.safetyStock ?? before?.safetyStock ?? 0 },
    reason: input.reason ?? null,
  });
}

/** Products whose available stock is at or below their safety stock, scarcest first. */
export async function listLowStock(deps: ServiceDeps, limit = 100): Promise<StockView[]> {
  const levels = await deps.db.models.StockLevel.findAll({
    where: literal("on_hand - reserved <= safety_stock"),
    order: [[literal("on_hand - reserved"), "ASC"]],
    limit,
  });
  const products = await deps.db.models.Product.findAll({ where: { id: { [Op.in]: levels.map((l) => l.productId) }, active: true } });
  const byId = new Map(products.map((p) => [p.id, p]));
  return levels.flatMap((l) => {
    const p = byId.get(l.productId);
    return p ? [toView(p, l)] : [];
  });
}

function toView(
  product: { sku: string; name: string; unit: string },
  level: { onHand: number; reserved: number; safetyStock: number } | null,
): StockView {
  const onHand = level?.onHand ?? 0;
  const reserved = level?.reserved ?? 0;
  return {
    sku: product.sku,
    name: product.name,
    unit: product.unit,
    onHand,
    reserved,
    available: onHand - reserved,
    safetyStock: level?.safetyStock ?? 0,
  };
}
