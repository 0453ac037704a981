import { Op } from "sequelize";
import { DomainError } from "../domain/errors";
import type { Actor } from "../domain/roles";
import { isUniqueViolation } from "../db/sequelize";
import type { ServiceDeps } from "./deps";
import { diff, recordAudit } from "./support/audit";
import { lowerIn } from "./support/text-match";

export interface ProductInput {
  sku: string;
  name: string;
  barcode?: string | null;
  unit?: string;
  category?: string | null;
  listPriceFen: number;
  floorPriceFen?: number | null;
  safetyStock?: number;
  active?: boolean;
}

export interface ProductView {
  id: number;
  sku: string;
  name: string;
  barcode: string | null;
  unit: string;
  category: string | null;
  listPriceFen: number;
  floorPriceFen: number | null;
  active: boolean;
  stock: { onHand: number; reserved: number; available: number; safetyStock: number };
}

/** Creates or updates products by sku, all or nothing; new products start with no stock. */
export async function upsertProducts(deps: ServiceDeps, inputs: ProductInput[], actor: Actor): Promise<ProductView[]> {
  const seen = new Set<string>();
  inputs.forEach((p, i) => {
    const key = p.sku.toUpperCase();
    if (seen.has(key)) throw new DomainError("validation_failed", `sku ${p.sku} appears twice`, { path: `${i}.sku` });
    seen.add(key);
    if (p.floorPriceFen != null && p.floorPriceFen > p.listPriceFen) {
      throw new DomainError("validation_failed", "floor price cannot be above the list price", { path: `${i}.floorPriceFen` });
    }
  });
  try {
    const ids = await deps.db.transaction(async (tx) => {
      const m = deps.db.models;
      const existing = await m.Product.findAll({ where: lowerIn("sku", inputs.map((p) => p.sku)), transaction: tx });
      const bySku = new Map(existing.map((p) => [p.sku.toUpperCase(), p]));
      const out: number[] = [];
      for (const input of inputs) {
        const fields = {
          name: input.name,
          barcode: input.barcode ?? null,
          unit: input.unit ?? "件",
          category: input.category ?? null,
          listPriceFen: input.listPriceFen,
          floorPriceFen: input.floorPriceFen ?? null,
          active: input.active ?? true,
        };
        const row = bySku.get(input.sku.toUpperCase());
        if (row) {
          const changes = diff(row.get({ plain: true }) as unknown as Record<string, unknown>, fields);
          if (Object.keys(changes.after).length > 0) {
            await row.update(fields, { transaction: tx });
            await recordAudit(deps, tx, { entity: "product", entityId: row.id, action: "updated", actor, ...changes });
          }
          if (input.safetyStock !== undefined) {
            await m.StockLevel.update({ safetyStock: input.safetyStock, updatedAt: deps.now() }, { where: { productId: row.id }, transaction: tx });
          }
          out.push(row.id);
        } else {
          const created = await m.Product.create({ sku: input.sku, ...fields }, { transaction: tx });
          await m.StockLevel.create(
            { productId: created.id, onHand: 0, reserved: 0, safetyStock: input.safetyStock ?? 0, updatedAt: deps.now() },
            { transaction: tx },
          );
          await recordAudit(deps, tx, { entity: "product", entityId: created.id, action: "created", actor, after: { sku: input.sku, ...fields } });
          out.push(created.id);
        }
      }
      return out;
    });
    return listProductsByIds(deps, ids);
  } catch (err) {
    if (isUniqueViolation(err)) {
      throw new DomainError("conflict", "a barcode is already used by another product", { field: "barcode" });
    }
    throw err;
  }
}

export async function listProductsByIds(deps: ServiceDeps, ids: number[]): Promise<ProductView[]> {
  const m = deps.db.models;
  const [products, levels] = await Promise.all([
    m.Product.findAll({ where: { id: { [Op.in]: ids } } }),
    m.StockLevel.findAll({ where: { productId: { [Op.in]: ids } } }),
  ]);
  const byId = new Map(products.map((p) => [p.id, p]));
  const stockOf = new Map(levels.map((l) => [l.productId, l]));
  return ids.flatMap((id) => {
    const p = byId.get(id);
    return p ? [presentProduct(p, stockOf.get(id))] : [];
  });
}

export function presentProduct(
  p: { id: number; sku: string; name: string; barcode: string | null; unit: string; category: string | null; listPriceFen: number; floorPriceFen: number | null; active: boolean },
  s?: { onHand: number; reserved: number; safetyStock: number },
): ProductView {
  const onHand = s?.onHand ?? 0;
  const reserved = s?.reserved ?? 0;
  return {
    id: p.id,
    sku: p.sku,
    name: p.name,
    barcode: p.barcode,
    unit: p.unit,
    category: p.category,
    listPriceFen: p.listPriceFen,
    floorPriceFen: p.floorPriceFen,
    active: p.active,
    stock: { onHand, reserved, available: onHand - reserved, safetyStock: s?.safetyStock ?? 0 },
  };
}
