import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { DataTypes, Sequelize, type ModelStatic, type Model } from "sequelize";
import { cheaperSqliteSelects } from "../../src/db/sqlite-select";

/**
 * src/db/sqlite-select.ts: SQLite SELECTs keep the table's column types between queries and place each
 * result column once. What comes back must be exactly what Sequelize's own path gives, and a schema
 * change must be seen by the next query.
 */
describe("cheaper SQLite selects", () => {
  let dir: string;
  let stock: Sequelize;
  let cheaper: Sequelize;

  const define = (s: Sequelize) => {
    const Customer = s.define("Customer", { id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true }, displayName: DataTypes.STRING }, { tableName: "customers", underscored: true });
    const Order = s.define(
      "Order",
      {
        id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
        orderNo: DataTypes.STRING,
        totalFen: DataTypes.INTEGER,
        urgent: DataTypes.BOOLEAN,
        promisedAt: DataTypes.DATE,
        dueOn: DataTypes.DATEONLY,
        tags: DataTypes.JSON,
        customerId: DataTypes.INTEGER,
      },
      { tableName: "orders", underscored: true },
    );
    Order.belongsTo(Customer, { as: "customer", foreignKey: "customerId" });
    return { Customer, Order };
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "chatorder-sqlite-select-"));
    const storage = path.join(dir, "db.sqlite");
    stock = new Sequelize({ dialect: "sqlite", storage, logging: false });
    cheaper = new Sequelize({ dialect: "sqlite", storage, logging: false });
    cheaperSqliteSelects(cheaper);
    const { Customer, Order } = define(stock);
    await stock.sync();
    await Customer.bulkCreate([{ displayName: "华东贸易" }, { displayName: "北方五金" }]);
    await Order.bulkCreate([
      { orderNo: "SO-1", totalFen: 12_345, urgent: true, promisedAt: new Date("2026-12-01T02:03:04Z"), dueOn: "2026-12-05", tags: ["a", "b"], customerId: 1 },
      { orderNo: "SO-2", totalFen: 0, urgent: false, promisedAt: null, dueOn: null, tags: null, customerId: 2 },
      { orderNo: "SO-3", totalFen: 99, urgent: null, promisedAt: new Date("2026-11-30T23:59:59Z"), dueOn: "2026-12-31", tags: { k: 1 }, customerId: null },
    ]);
  });

  afterAll(async () => {
    await stock.close();
    await cheaper.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const read = (Order: ModelStatic<Model>) =>
    Order.findAll({ include: [{ association: "customer" }], order: [["id", "ASC"]] }).then((rows) => rows.map((r) => r.toJSON()));

  it("gives the same rows as Sequelize's own path: dates, booleans, JSON, renamed columns and included models", async () => {
    const expected = await read(define(stock).Order);
    const got = await read(define(cheaper).Order);
    expect(got).toEqual(expected);
    expect(got[0].promisedAt).toBeInstanceOf(Date);
    expect(got[0].urgent).toBe(true);
    expect(got[0].tags).toEqual(["a", "b"]);
    expect((got[0].customer as { displayName: string }).displayName).toBe("华东贸易");
    expect(got[2].customer).toBeNull();
  });

  it("asks SQLite for a table's column types once, not before every select", async () => {
    const { Order } = define(cheaper);
    const connection = (await cheaper.connectionManager.getConnection({ type: "read" })) as unknown as { on(event: "trace", fn: (sql: string) => void): void };
    const pragmas: string[] = [];
    connection.on("trace", (sql) => {
      if (sql.startsWith("PRAGMA table_info")) pragmas.push(sql);
    });
    for (let i = 0; i < 3; i++) await Order.findAll();
    // The first call of this test may still ask (a schema change in another test clears the types).
    expect(pragmas.length).toBeLessThanOrEqual(1);
    cheaper.connectionManager.releaseConnection(connection as never);
  });

  it("sees a column added by a migration at the next select", async () => {
    const { Order } = define(cheaper);
    await Order.findAll(); // the types of "orders" are known from here on
    await cheaper.getQueryInterface().addColumn("orders", "shipped_at", { type: DataTypes.DATE, allowNull: true });
    await stock.query("UPDATE orders SET shipped_at = '2026-12-02 08:00:00.000 +00:00' WHERE order_no = 'SO-1'");
    const Widened = cheaper.define("OrderWithShipment", { orderNo: DataTypes.STRING, shippedAt: DataTypes.DATE }, { tableName: "orders", underscored: true, timestamps: false });
    const row = await Widened.findOne({ where: { orderNo: "SO-1" } });
    expect(row?.get("shippedAt")).toEqual(new Date("2026-12-02T08:00:00.000Z"));
  });

  it("leaves raw queries and writes to Sequelize's own path", async () => {
    const [rows] = await cheaper.query("SELECT order_no AS orderNo, total_fen AS totalFen FROM orders ORDER BY id");
    expect(rows).toEqual([
      { orderNo: "SO-1", totalFen: 12_345 },
      { orderNo: "SO-2", totalFen: 0 },
      { orderNo: "SO-3", totalFen: 99 },
    ]);
    const { Order } = define(cheaper);
    const created = await Order.create({ orderNo: "SO-4", totalFen: 1, customerId: 1 });
    expect(created.get("id")).toBe(4);
  });
});
