import { DataTypes, type QueryInterface } from "sequelize";

/**
 * Production readiness (issue 8): each outbox row remembers the trace id of the request or inbound
 * event that wrote it, so a delivery's log lines can be found from the callback that caused it.
 * inbound_events needs no column: the event is stored whole in its payload, trace id included.
 */
export async function up({ context: qi }: { context: QueryInterface }): Promise<void> {
  await qi.addColumn("outbox", "trace_id", { type: DataTypes.STRING(64), allowNull: true });
}

export async function down({ context: qi }: { context: QueryInterface }): Promise<void> {
  await qi.removeColumn("outbox", "trace_id");
}
