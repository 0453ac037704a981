import { DataTypes, type QueryInterface } from "sequelize";

/**
 * Customers reached in a DingTalk group (dingtalk.md 4): by our robot in the group (openConversationId),
 * or by the group's own custom robot webhook and its signing secret.
 */
export async function up({ context: qi }: { context: QueryInterface }): Promise<void> {
  await qi.addColumn("customers", "dingtalk_conversation_id", { type: DataTypes.STRING(128), allowNull: true });
  // The URL holds the robot's access_token and the secret signs for it: both are credentials, never shown.
  await qi.addColumn("customers", "dingtalk_webhook_url", { type: DataTypes.STRING(512), allowNull: true });
  await qi.addColumn("customers", "dingtalk_webhook_secret", { type: DataTypes.STRING(128), allowNull: true });
}

export async function down({ context: qi }: { context: QueryInterface }): Promise<void> {
  await qi.removeColumn("customers", "dingtalk_webhook_secret");
  await qi.removeColumn("customers", "dingtalk_webhook_url");
  await qi.removeColumn("customers", "dingtalk_conversation_id");
}
