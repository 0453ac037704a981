import { DataTypes, type QueryInterface } from "sequelize";

/** The simulator channel keeps each conversation in the database, so the dev console survives restarts. */
export async function up({ context: qi }: { context: QueryInterface }): Promise<void> {
  await qi.createTable("sim_messages", {
    id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true, allowNull: false },
    conversation: { type: DataTypes.STRING(191), allowNull: false },
    direction: { type: DataTypes.STRING(4), allowNull: false },
    kind: { type: DataTypes.STRING(8), allowNull: false },
    text: { type: DataTypes.TEXT, allowNull: true },
    card: { type: DataTypes.TEXT, allowNull: true },
    dedupe_key: { type: DataTypes.STRING(191), allowNull: true },
    created_at: { type: DataTypes.DATE(3), allowNull: false },
    updated_at: { type: DataTypes.DATE(3), allowNull: false },
  });
  await qi.addIndex("sim_messages", ["conversation", "id"], { name: "sim_messages_conversation" });
  await qi.addIndex("sim_messages", ["dedupe_key"], { unique: true, name: "sim_messages_dedupe" });
}

export async function down({ context: qi }: { context: QueryInterface }): Promise<void> {
  await qi.dropTable("sim_messages");
}
