import { DataTypes, type QueryInterface } from "sequelize";

/**
 * Customers reached as WeCom external contacts (wecom.md 7.2), and the state of every notice sent to a
 * customer, so an order can show "waiting for the owner's tap" rather than pretend it was delivered.
 */
export async function up({ context: qi }: { context: QueryInterface }): Promise<void> {
  // external_userid and userid are at most 64 bytes of ASCII (wecom.md conventions).
  await qi.addColumn("customers", "wecom_external_user_id", { type: DataTypes.STRING(64), allowNull: true });
  await qi.addColumn("customers", "wecom_owner_user_id", { type: DataTypes.STRING(64), allowNull: true });
  await qi.addIndex("customers", ["wecom_external_user_id"], { name: "customers_wecom_external" });

  await qi.createTable("customer_notices", {
    id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true, allowNull: false },
    order_id: { type: DataTypes.INTEGER, allowNull: false, references: { model: "orders", key: "id" }, onDelete: "CASCADE" },
    shipment_id: { type: DataTypes.INTEGER, allowNull: true, references: { model: "shipments", key: "id" }, onDelete: "CASCADE" },
    // The outbox row's dedupe key: one notice per intended message, however often it is retried.
    dedupe_key: { type: DataTypes.STRING(191), allowNull: false },
    channel: { type: DataTypes.STRING(32), allowNull: false },
    // Never a robot webhook URL: its key is a credential (wecom.md 7.3).
    target: { type: DataTypes.STRING(191), allowNull: false },
    msgid: { type: DataTypes.STRING(128), allowNull: true },
    state: { type: DataTypes.STRING(16), allowNull: false },
    error: { type: DataTypes.STRING(500), allowNull: true },
    // When the platform took it (a robot message sent, a mass-send task created): per-customer caps count these.
    accepted_at: { type: DataTypes.DATE(3), allowNull: true },
    created_at: { type: DataTypes.DATE(3), allowNull: false },
    updated_at: { type: DataTypes.DATE(3), allowNull: false },
  });
  await qi.addIndex("customer_notices", ["dedupe_key"], { unique: true, name: "customer_notices_dedupe" });
  await qi.addIndex("customer_notices", ["order_id", "id"], { name: "customer_notices_order" });
  await qi.addIndex("customer_notices", ["channel", "target", "accepted_at"], { name: "customer_notices_target" });
}

export async function down({ context: qi }: { context: QueryInterface }): Promise<void> {
  await qi.dropTable("customer_notices");
  await qi.removeIndex("customers", "customers_wecom_external");
  await qi.removeColumn("customers", "wecom_owner_user_id");
  await qi.removeColumn("customers", "wecom_external_user_id");
}
