import { Sequelize } from "sequelize";
import { sqlDate } from "../../src/bot/inbound-writer";

/** The inbound writer formats received_at itself; it must be exactly what Sequelize would have written. */
describe("sqlDate", () => {
  const sqlite = new Sequelize({ dialect: "sqlite", storage: ":memory:", logging: false });
  // No connection is made: escape() only needs the dialect and the timezone createDb configures.
  const mysql = new Sequelize("mysql://nobody@127.0.0.1:1/none", { dialect: "mysql", timezone: "+00:00", logging: false });
  afterAll(() => Promise.all([sqlite.close(), mysql.close()]));

  const dates = [
    new Date("2026-11-30T10:20:03.045Z"),
    new Date("2026-01-01T00:00:00.000Z"),
    new Date("2024-02-29T23:59:59.999Z"),
    new Date("1999-12-31T16:00:00.007Z"),
    ...Array.from({ length: 200 }, (_, i) => new Date(Date.UTC(2020, 0, 1) + i * 7_919_993_117)),
  ];

  it("matches Sequelize's escape() on SQLite and MySQL", () => {
    for (const d of dates) {
      expect(sqlDate(d, "sqlite")).toBe(sqlite.escape(d as unknown as string));
      expect(sqlDate(d, "mysql")).toBe(mysql.escape(d as unknown as string));
    }
  });
});
