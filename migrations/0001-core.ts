import { DataTypes, type QueryInterface } from "sequelize";

// Landed migrations are never edited: later changes get a new file.

const now = { type: DataTypes.DATE(3), allowNull: false };
const nullableDate = { type: DataTypes.DATE(3), allowNull: true };
const fen = (allowNull = false) => ({ type: DataTypes.BIGINT, allowNull, ...(allowNull ? {} : { defaultValue: 0 }) });
const text = (len: number, allowNull = true) => ({ type: DataTypes.STRING(len), allowNull });

function pk(qi: QueryInterface, big = false) {
  // SQLite only auto-increments an INTEGER PRIMARY KEY.
  const type = big && qi.sequelize.getDialect() !== "sqlite" ? DataTypes.BIGINT : DataTypes.INTEGER;
  return { type, primaryKey: true, autoIncrement: true, allowNull: false };
}

const ref = (table: string, allowNull = false, onDelete = "RESTRICT") => ({
  type: DataTypes.INTEGER,
  allowNull,
  references: { model: table, key: "id" },
  onDelete,
});

export async function up({ context: qi }: { context: QueryInterface }): Promise<void> {
  await qi.createTable("users", {
    id: pk(qi),
    platform: text(16, false),
    platform_user_id: text(128, false),
    name: text(64, false),
    mobile: text(32),
    roles: { type: DataTypes.STRING(255), allowNull: false, defaultValue: "" },
    locale: { type: DataTypes.STRING(8), allowNull: false, defaultValue: "zh-CN" },
    manager_id: ref("users", true, "SET NULL"),
    department: text(128),
    active: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: true },
    created_at: now,
    updated_at: now,
  });
  await qi.addIndex("users", ["platform", "platform_user_id"], { unique: true, name: "users_platform_uid" });
  await qi.addIndex("users", ["manager_id"], { name: "users_manager" });

  await qi.createTable("customers", {
    id: pk(qi),
    code: text(64, false),
    name: text(128, false),
    level: text(16),
    credit_limit_fen: fen(true),
    contact_name: text(64),
    phone: text(32),
    address: text(255),
    owner_user_id: ref("users", true, "SET NULL"),
    payment_terms_days: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 30 },
    chat_platform: text(16),
    chat_target: text(512),
    active: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: true },
    created_at: now,
    updated_at: now,
  });
  await qi.addIndex("customers", ["code"], { unique: true, name: "customers_code" });
  await qi.addIndex("customers", ["owner_user_id"], { name: "customers_owner" });
  await qi.addIndex("customers", ["name"], { name: "customers_name" });

  await qi.createTable("products", {
    id: pk(qi),
    sku: text(64, false),
    barcode: text(64),
    name: text(128, false),
    unit: { type: DataTypes.STRING(16), allowNull: false, defaultValue: "件" },
    category: text(64),
    list_price_fen: fen(),
    floor_price_fen: fen(true),
    active: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: true },
    created_at: now,
    updated_at: now,
  });
  await qi.addIndex("products", ["sku"], { unique: true, name: "products_sku" });
  await qi.addIndex("products", ["barcode"], { unique: true, name: "products_barcode" });
  await qi.addIndex("products", ["name"], { name: "products_name" });

  await qi.createTable("stock_levels", {
    product_id: { ...ref("products", false, "CASCADE"), primaryKey: true },
    on_hand: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    reserved: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    safety_stock: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    updated_at: now,
  });

  await qi.createTable("order_sequences", {
    day: { type: DataTypes.STRING(8), primaryKey: true, allowNull: false },
    last_no: { type: DataTypes.INTEGER, allowNull: false },
  });

  await qi.createTable("orders", {
    id: pk(qi),
    order_no: text(32, false),
    customer_id: ref("customers"),
    sales_rep_id: ref("users", true, "SET NULL"),
    status: text(24, false),
    total_fen: fen(),
    paid_fen: fen(),
    payment_terms_days: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 30 },
    due_at: nullableDate,
    ship_to_name: text(64),
    ship_to_phone: text(32),
    ship_to_address: text(255),
    note: text(500),
    source: text(16, false),
    idempotency_key: text(128),
    approval_round: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    auto_approved: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
    approval_reasons: { type: DataTypes.TEXT, allowNull: true },
    version: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 1 },
    created_by: text(64, false),
    submitted_at: nullableDate,
    approved_at: nullableDate,
    shipped_at: nullableDate,
    delivered_at: nullableDate,
    completed_at: nullableDate,
    cancelled_at: nullableDate,
    cancel_reason: text(500),
    created_at: now,
    updated_at: now,
  });
  await qi.addIndex("orders", ["order_no"], { unique: true, name: "orders_order_no" });
  await qi.addIndex("orders", ["idempotency_key"], { unique: true, name: "orders_idempotency" });
  await qi.addIndex("orders", ["status", "id"], { name: "orders_status" });
  await qi.addIndex("orders", ["customer_id", "status"], { name: "orders_customer" });
  await qi.addIndex("orders", ["sales_rep_id", "id"], { name: "orders_rep" });
  await qi.addIndex("orders", ["created_at"], { name: "orders_created" });

  await qi.createTable("order_lines", {
    id: pk(qi),
    order_id: ref("orders", false, "CASCADE"),
    line_no: { type: DataTypes.INTEGER, allowNull: false },
    product_id: ref("products"),
    sku: text(64, false),
    name: text(128, false),
    unit: text(16, false),
    category: text(64),
    list_price_fen: fen(),
    floor_price_fen: fen(true),
    unit_price_fen: fen(),
    qty: { type: DataTypes.INTEGER, allowNull: false },
    line_total_fen: fen(),
    picked_qty: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    shipped_qty: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
  });
  await qi.addIndex("order_lines", ["order_id", "line_no"], { unique: true, name: "order_lines_order" });
  await qi.addIndex("order_lines", ["product_id"], { name: "order_lines_product" });

  await qi.createTable("approval_steps", {
    id: pk(qi),
    order_id: ref("orders", false, "CASCADE"),
    round: { type: DataTypes.INTEGER, allowNull: false },
    step_no: { type: DataTypes.INTEGER, allowNull: false },
    label: text(64, false),
    mode: text(8, false),
    approver_ids: { type: DataTypes.STRING(512), allowNull: false },
    reasons: { type: DataTypes.TEXT, allowNull: true },
    status: text(16, false),
    activated_at: nullableDate,
    decided_at: nullableDate,
    reminded_at: nullableDate,
    remind_count: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    escalated_at: nullableDate,
    created_at: now,
    updated_at: now,
  });
  await qi.addIndex("approval_steps", ["order_id", "round", "step_no"], { unique: true, name: "steps_order" });
  await qi.addIndex("approval_steps", ["status", "activated_at"], { name: "steps_status" });

  await qi.createTable("approval_decisions", {
    id: pk(qi),
    step_id: ref("approval_steps", false, "CASCADE"),
    approver_id: ref("users"),
    decision: text(8, false),
    comment: text(500),
    decided_at: now,
  });
  // One decision per approver per step: the database, not the code, is the last line against double taps.
  await qi.addIndex("approval_decisions", ["step_id", "approver_id"], { unique: true, name: "decisions_step" });

  await qi.createTable("approval_rule_sets", {
    id: pk(qi),
    rules: { type: DataTypes.TEXT, allowNull: false },
    active: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: true },
    created_by: text(64, false),
    created_at: now,
  });

  await qi.createTable("card_refs", {
    id: pk(qi),
    order_id: ref("orders", false, "CASCADE"),
    step_id: ref("approval_steps", true, "CASCADE"),
    kind: text(24, false),
    platform: text(16, false),
    user_id: ref("users", true, "SET NULL"),
    platform_ref: { type: DataTypes.TEXT, allowNull: false },
    live: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: true },
    created_at: now,
    updated_at: now,
  });
  await qi.addIndex("card_refs", ["order_id", "kind"], { name: "card_refs_order" });
  await qi.addIndex("card_refs", ["step_id"], { name: "card_refs_step" });

  await qi.createTable("shipments", {
    id: pk(qi),
    order_id: ref("orders", false, "CASCADE"),
    carrier: text(64, false),
    tracking_no: text(64, false),
    shipped_at: now,
    created_by: text(64, false),
  });
  await qi.addIndex("shipments", ["order_id"], { name: "shipments_order" });
  await qi.addIndex("shipments", ["tracking_no"], { name: "shipments_tracking" });

  await qi.createTable("shipment_lines", {
    id: pk(qi),
    shipment_id: ref("shipments", false, "CASCADE"),
    order_line_id: ref("order_lines", false, "CASCADE"),
    qty: { type: DataTypes.INTEGER, allowNull: false },
  });
  await qi.addIndex("shipment_lines", ["shipment_id"], { name: "shipment_lines_shipment" });

  await qi.createTable("payments", {
    id: pk(qi),
    order_id: ref("orders", false, "CASCADE"),
    amount_fen: fen(),
    paid_at: now,
    method: text(32),
    reference: text(128),
    created_by: text(64, false),
    created_at: now,
  });
  await qi.addIndex("payments", ["order_id"], { name: "payments_order" });

  await qi.createTable("audit_events", {
    id: pk(qi, true),
    entity: text(32, false),
    entity_id: text(64, false),
    action: text(48, false),
    actor: text(64, false),
    at: now,
    before: { type: DataTypes.TEXT, allowNull: true },
    after: { type: DataTypes.TEXT, allowNull: true },
    reason: text(500),
  });
  await qi.addIndex("audit_events", ["entity", "entity_id", "id"], { name: "audit_entity" });

  await qi.createTable("outbox", {
    id: pk(qi, true),
    topic: text(48, false),
    payload: { type: DataTypes.TEXT, allowNull: false },
    dedupe_key: text(191, false),
    status: text(16, false),
    attempts: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    next_attempt_at: now,
    lease_until: nullableDate,
    leased_by: text(64),
    platform_ref: { type: DataTypes.TEXT, allowNull: true },
    last_error: { type: DataTypes.TEXT, allowNull: true },
    sent_at: nullableDate,
    created_at: now,
  });
  await qi.addIndex("outbox", ["dedupe_key"], { unique: true, name: "outbox_dedupe" });
  await qi.addIndex("outbox", ["status", "next_attempt_at"], { name: "outbox_due" });

  await qi.createTable("inbound_events", {
    id: pk(qi, true),
    platform: text(16, false),
    event_key: text(191, false),
    kind: text(24, false),
    payload: { type: DataTypes.TEXT, allowNull: false },
    status: text(16, false),
    attempts: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    last_error: { type: DataTypes.TEXT, allowNull: true },
    received_at: now,
    processed_at: nullableDate,
  });
  await qi.addIndex("inbound_events", ["platform", "event_key"], { unique: true, name: "inbound_key" });
  await qi.addIndex("inbound_events", ["status", "received_at"], { name: "inbound_status" });

  await qi.createTable("api_keys", {
    id: pk(qi),
    name: text(64, false),
    prefix: text(16, false),
    hash: text(64, false),
    created_at: now,
    last_used_at: nullableDate,
    revoked_at: nullableDate,
  });
  await qi.addIndex("api_keys", ["prefix"], { unique: true, name: "api_keys_prefix" });

  await qi.createTable("webhook_subscriptions", {
    id: pk(qi),
    url: text(512, false),
    secret: text(128, false),
    events: { type: DataTypes.STRING(512), allowNull: false },
    active: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: true },
    created_at: now,
  });
}

export async function down({ context: qi }: { context: QueryInterface }): Promise<void> {
  for (const table of [
    "webhook_subscriptions",
    "api_keys",
    "inbound_events",
    "outbox",
    "audit_events",
    "payments",
    "shipment_lines",
    "shipments",
    "card_refs",
    "approval_rule_sets",
    "approval_decisions",
    "approval_steps",
    "order_lines",
    "orders",
    "order_sequences",
    "stock_levels",
    "products",
    "customers",
    "users",
  ]) {
    await qi.dropTable(table);
  }
}
