import { DataTypes, type QueryInterface } from "sequelize";

/**
 * Customers hear that their order was confirmed as well as that it shipped: each notice says
 * which it is. Every notice before this was a shipment notice.
 */
export async function up({ context: qi }: { context: QueryInterface }): Promise<void> {
  await qi.addColumn("customer_notices", "kind", { type: DataTypes.STRING(16), allowNull: false, defaultValue: "shipment" });
}

export async function down({ context: qi }: { context: QueryInterface }): Promise<void> {
  await qi.removeColumn("customer_notices", "kind");
}
