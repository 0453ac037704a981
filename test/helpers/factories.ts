import crypto from "node:crypto";
import type { App } from "../../src/app";
import type { Role } from "../../src/domain/roles";
import type { Actor } from "../../src/domain/roles";

const uid = () => crypto.randomBytes(4).toString("hex").toUpperCase();

export const API_ACTOR: Actor = { kind: "api", userId: null, roles: [], label: "api:test" };

export function actorFor(user: { id: number; roles: Role[] }): Actor {
  return { kind: "user", userId: user.id, roles: user.roles, label: `user:${user.id}` };
}

export async function buildUser(app: App, roles: Role[], managerId: number | null = null, name?: string) {
  const id = uid();
  return app.db.models.User.create({
    platform: "simulator",
    platformUserId: `u-${id}`,
    name: name ?? `用户${id}`,
    mobile: null,
    roles,
    managerId,
    department: null,
  });
}

/** A rep with a manager, and finance, director and warehouse users, so every default route resolves. */
export async function buildTeam(app: App) {
  const director = await buildUser(app, ["director"], null, "周总监");
  const manager = await buildUser(app, ["manager"], director.id, "李经理");
  const rep = await buildUser(app, ["sales"], manager.id, "王小明");
  const finance = await buildUser(app, ["finance"], director.id, "赵敏");
  const warehouse = await buildUser(app, ["warehouse"], null, "陈师傅");
  return { director, manager, rep, finance, warehouse };
}

export async function buildProduct(
  app: App,
  opts: { onHand?: number; listPriceFen?: number; floorPriceFen?: number | null; category?: string; sku?: string } = {},
) {
  const sku = opts.sku ?? `T-${uid()}`;
  const [product] = await app.services.upsertProducts(
    [{ sku, name: `测试商品${sku}`, listPriceFen: opts.listPriceFen ?? 1000, floorPriceFen: opts.floorPriceFen ?? null, category: opts.category ?? null, barcode: null }],
    API_ACTOR,
  );
  if (opts.onHand !== undefined) await app.services.setStock({ sku, onHand: opts.onHand }, API_ACTOR);
  return product;
}

export async function buildCustomer(app: App, opts: { creditLimitFen?: number | null; ownerUserId?: number | null; level?: string } = {}) {
  const code = `C-${uid()}`;
  const [customer] = await app.services.upsertCustomers(
    [{ code, name: `测试客户${code}`, creditLimitFen: opts.creditLimitFen ?? null, ownerUserId: opts.ownerUserId ?? null, level: opts.level ?? null }],
    API_ACTOR,
  );
  return customer;
}

/** Reserved quantities must always equal the unshipped quantities of open orders. */
export async function reservedMatchesOpenLines(app: App, productId: number): Promise<{ reserved: number; open: number }> {
  const level = await app.db.models.StockLevel.findByPk(productId);
  const [rows] = await app.db.sequelize.query(
    `SELECT COALESCE(SUM(l.qty - l.shipped_qty), 0) AS open FROM order_lines l JOIN orders o ON o.id = l.order_id
     WHERE l.product_id = ? AND o.status IN ('pending_approval','approved','picking','packed','partially_shipped')`,
    { replacements: [productId] },
  );
  return { reserved: level?.reserved ?? -1, open: Number((rows as Array<{ open: number | string }>)[0].open) };
}
