import { DataTypes, type QueryInterface } from "sequelize";

/**
 * Scheduled work (issue 7): each job's last run, the people an approval step was escalated to, archived
 * drafts, and the daily report rollups the dashboard reads.
 */

const day = { type: DataTypes.STRING(10), allowNull: false };
const int = { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 };
const big = { type: DataTypes.BIGINT, allowNull: false, defaultValue: 0 };
const key = (allowNull = false) => ({ type: DataTypes.INTEGER, allowNull, primaryKey: true });

export async function up({ context: qi }: { context: QueryInterface }): Promise<void> {
  await qi.createTable("job_runs", {
    name: { type: DataTypes.STRING(64), allowNull: false, primaryKey: true },
    started_at: { type: DataTypes.DATE(3), allowNull: false },
    finished_at: { type: DataTypes.DATE(3), allowNull: true },
    duration_ms: { type: DataTypes.INTEGER, allowNull: true },
    outcome: { type: DataTypes.STRING(16), allowNull: false },
    result: { type: DataTypes.TEXT, allowNull: true },
    error: { type: DataTypes.TEXT, allowNull: true },
    instance: { type: DataTypes.STRING(128), allowNull: true },
    runs: int,
    failures: int,
  });
  // [{ from, to, added, at }]: who a pending step was escalated to on whose behalf (decide-approval reads it).
  await qi.addColumn("approval_steps", "escalations", { type: DataTypes.TEXT, allowNull: true });
  await qi.addColumn("orders", "archived_at", { type: DataTypes.DATE(3), allowNull: true });
  // Overdue receivables are read live (they change with the clock, not with writes): per status, by due
  // date, covering the amounts so the dashboard's total never visits the rows.
  await qi.addIndex("orders", ["status", "due_at", "total_fen", "paid_fen"], { name: "orders_status_due" });
  await qi.addIndex("outbox", ["status", "sent_at"], { name: "outbox_sent" });
  await qi.addIndex("inbound_events", ["received_at"], { name: "inbound_received" });

  // Rollups keyed by the Shanghai day an order was placed ("2026-03-02"); sales_rep_id 0 = no rep.
  await qi.createTable("report_daily_sales", {
    day: { ...day, primaryKey: true },
    product_id: key(),
    sales_rep_id: key(),
    customer_id: key(),
    qty: big,
    amount_fen: big,
  });
  await qi.addIndex("report_daily_sales", ["customer_id", "day"], { name: "report_sales_customer" });
  await qi.createTable("report_daily_products", {
    day: { ...day, primaryKey: true },
    product_id: key(),
    qty: big,
    amount_fen: big,
  });
  // Whole months of report_daily_products, so a year's top products sums 12 × products rows, not 365 ×.
  await qi.createTable("report_monthly_products", {
    month: { type: DataTypes.STRING(7), allowNull: false, primaryKey: true },
    product_id: key(),
    qty: big,
    amount_fen: big,
  });
  await qi.createTable("report_daily_reps", {
    day: { ...day, primaryKey: true },
    sales_rep_id: key(),
    submitted: int,
    sold: int,
    sold_fen: big,
    approved: int,
    shipped: int,
    paid: int,
    approval_count: int,
    approval_seconds: big,
  });
  // A low-stock alert went out for this product on this Shanghai day: at most one a day per sku.
  await qi.createTable("stock_alerts", {
    product_id: key(),
    day: { type: DataTypes.STRING(8), allowNull: false, primaryKey: true },
    available: { type: DataTypes.INTEGER, allowNull: false },
    suggested_qty: { type: DataTypes.INTEGER, allowNull: false },
    created_at: { type: DataTypes.DATE(3), allowNull: false },
  });
  // How far the rollups have read the audit trail (the incremental rebuild's watermark).
  await qi.createTable("report_state", {
    name: { type: DataTypes.STRING(32), allowNull: false, primaryKey: true },
    value: { type: DataTypes.BIGINT, allowNull: false },
  });
}

export async function down({ context: qi }: { context: QueryInterface }): Promise<void> {
  for (const table of ["stock_alerts", "report_state", "report_daily_reps", "report_monthly_products", "report_daily_products", "report_daily_sales"]) await qi.dropTable(table);
  await qi.removeIndex("inbound_events", "inbound_received");
  await qi.removeIndex("outbox", "outbox_sent");
  await qi.removeIndex("orders", "orders_status_due");
  await qi.removeColumn("orders", "archived_at");
  await qi.removeColumn("approval_steps", "escalations");
  await qi.dropTable("job_runs");
}
