import ExcelJS from "exceljs";
import { API_ACTOR, buildCustomer, buildProduct, buildTeam, buildUser } from "../helpers/factories";
import { refusalCode, signInAs } from "../helpers/miniapp";
import { createTestApp, type TestApp } from "../helpers/test-app";

const XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

async function workbook(rows: unknown[][]): Promise<Buffer> {
  const book = new ExcelJS.Workbook();
  const sheet = book.addWorksheet("导入");
  for (const r of rows) sheet.addRow(r);
  return Buffer.from(await book.xlsx.writeBuffer());
}

describe("mini-app admin: Excel import (dry run, all or nothing) and order export", () => {
  let t: TestApp;
  let admin: Awaited<ReturnType<typeof buildUser>>;
  let team: Awaited<ReturnType<typeof buildTeam>>;
  beforeAll(async () => {
    t = await createTestApp();
    admin = await buildUser(t.app, ["admin"]);
    team = await buildTeam(t.app);
  });
  afterAll(() => t.close());

  const upload = (s: { agent: Awaited<ReturnType<typeof signInAs>>["agent"]; csrf: string }, kind: string, mode: string, body: Buffer) =>
    s.agent.post(`/m/admin/import/${kind}?mode=${mode}`).set("content-type", XLSX).set("x-csrf-token", s.csrf).send(body);

  it("refuses non-admins the import page, the upload and the export", async () => {
    const file = await workbook([["SKU", "名称", "单价"], ["NA-1", "不该导入", "10"]]);
    for (const user of [team.rep, team.manager, await buildUser(t.app, ["finance"])]) {
      const s = await signInAs(t, user);
      expect(refusalCode((await s.agent.get("/m/admin/import")).text)).toBe("forbidden");
      expect((await upload(s, "products", "apply", file)).status).toBe(403);
      expect((await s.agent.get("/m/admin/export")).status).toBe(403);
    }
    expect(await t.app.db.models.Product.count({ where: { sku: "NA-1" } })).toBe(0);
  });

  it("lists every bad product row with its reason in the dry run, refuses to apply such a file, and imports a clean one", async () => {
    const s = await signInAs(t, admin);
    const page = await s.agent.get("/m/admin/import");
    expect(page.status).toBe(200);
    expect(page.text).toContain("Excel");
    const bad = await workbook([
      ["SKU", "名称", "单价", "底价", "安全库存"],
      ["XL-1", "口罩 A", "12.50", "10", 5],
      ["XL-2", "", "8", "", ""],
      ["XL-3", "手套", "abc", "", ""],
      ["XL-1", "口罩 A 重复", "12", "", ""],
      ["XL-4", "护目镜", "20", "30", "-1"],
    ]);
    const preview = await upload(s, "products", "preview", bad);
    expect(preview.status).toBe(200); // the dry run did its job; the fragment says what is wrong
    expect(preview.text).toContain('data-ok="false"');
    expect(preview.text).toContain("4 行有问题，未导入任何数据");
    expect(preview.text).toMatch(/data-row="3"[\s\S]*名称 不能为空/);
    expect(preview.text).toMatch(/data-row="4"[\s\S]*单价 不是有效金额/);
    expect(preview.text).toMatch(/data-row="5"[\s\S]*与第 2 行重复/);
    expect(preview.text).toMatch(/data-row="6"[\s\S]*底价不能高于单价/);
    expect(preview.text).not.toContain('data-row="2"');
    const refused = await upload(s, "products", "apply", bad);
    expect(refused.status).toBe(422);
    expect(await t.app.db.models.Product.count({ where: { sku: ["XL-1", "XL-2", "XL-3", "XL-4"] } })).toBe(0);

    const good = await workbook([["sku", "name", "listPrice", "barcode"], ["XL-1", "口罩 A", "12.50", "6900000000011"], ["XL-2", "手套", "8", ""]]);
    const ok = await upload(s, "products", "preview", good);
    expect(ok.status).toBe(200);
    expect(ok.text).toContain("2 行全部有效");
    expect(await t.app.db.models.Product.count({ where: { sku: ["XL-1", "XL-2"] } })).toBe(0);
    const applied = await upload(s, "products", "apply", good);
    expect(applied.status).toBe(200);
    expect(applied.text).toContain("已导入 2 行");
    expect((await t.app.db.models.Product.findOne({ where: { sku: "XL-1" } }))?.listPriceFen).toBe(1250);
  });

  it("imports customers, and refuses a stock file naming the unknown sku's row with no count changed", async () => {
    const s = await signInAs(t, admin);
    const customers = await workbook([["编码", "名称", "信用额度", "账期天数"], ["XC-1", "导入客户一", "5000", 30]]);
    expect((await upload(s, "customers", "apply", customers)).status).toBe(200);
    expect((await t.app.db.models.Customer.findOne({ where: { code: "XC-1" } }))?.creditLimitFen).toBe(500_000);

    const product = await buildProduct(t.app, { onHand: 5 });
    const stock = await workbook([["SKU", "库存"], [product.sku, 40], ["NO-SUCH-SKU", 3], [product.sku + "", "x"]]);
    const res = await upload(s, "stock", "apply", stock);
    expect(res.status).toBe(422);
    expect(res.text).toMatch(/data-row="3"[\s\S]*商品 NO-SUCH-SKU 不存在/);
    expect(res.text).toMatch(/data-row="4"/);
    expect((await t.app.services.getStock(product.sku)).onHand).toBe(5);
    const clean = await workbook([["SKU", "库存", "安全库存"], [product.sku, 40, 4]]);
    expect((await upload(s, "stock", "apply", clean)).status).toBe(200);
    expect((await t.app.services.getStock(product.sku)).onHand).toBe(40);
  });

  it("refuses a file that is not a workbook or misses a column, and an upload without the CSRF header", async () => {
    const s = await signInAs(t, admin);
    const junk = await upload(s, "products", "apply", Buffer.from("not a workbook"));
    expect(junk.status).toBe(422);
    expect(junk.text).toContain("无法读取文件");
    const noPrice = await upload(s, "products", "preview", await workbook([["SKU", "名称"], ["Y-1", "x"]]));
    expect(noPrice.text).toContain('data-ok="false"');
    expect(noPrice.text).toContain("缺少列");
    const file = await workbook([["SKU", "名称", "单价"], ["CS-1", "x", "1"]]);
    const noCsrf = await s.agent.post("/m/admin/import/products?mode=apply").set("content-type", XLSX).send(file);
    expect(noCsrf.status).toBe(403);
    expect(await t.app.db.models.Product.count({ where: { sku: "CS-1" } })).toBe(0);
    expect((await upload(s, "orders", "apply", file)).status).toBe(422);
  });

  it("catches a barcode repeated in the file in the dry run, and one taken by another product at apply, changing nothing", async () => {
    const s = await signInAs(t, admin);
    const repeated = await upload(s, "products", "preview", await workbook([["SKU", "名称", "单价", "条码"], ["BC-1", "甲", "1", "6901"], ["BC-2", "乙", "1", "6901"]]));
    expect(repeated.text).toMatch(/data-row="3"[\s\S]*6901 与第 2 行重复/);
    const taken = await buildProduct(t.app, {});
    const barcode = "6999000000017";
    await t.app.db.models.Product.update({ barcode }, { where: { id: taken.id } });
    const res = await upload(s, "products", "apply", await workbook([["SKU", "名称", "单价", "条码"], ["BC-3", "丙", "1", "6902"], ["BC-4", "丁", "1", barcode]]));
    expect(res.status).toBe(422);
    expect(res.text).toContain("条码已被其他商品使用");
    expect(await t.app.db.models.Product.count({ where: { sku: ["BC-3", "BC-4"] } })).toBe(0);
  });

  it("exports the orders matching the filters as a workbook", async () => {
    const product = await buildProduct(t.app, { onHand: 100, listPriceFen: 1000 });
    const customer = await buildCustomer(t.app);
    const draft = await t.app.services.placeOrder({ customerCode: customer.code, lines: [{ sku: product.sku, qty: 3 }], source: "api", salesRepId: team.rep.id }, API_ACTOR);
    const s = await signInAs(t, admin);
    const res = await s.agent.get("/m/admin/export").query({ status: "draft", q: customer.code }).buffer(true).parse((r, cb) => {
      const chunks: Buffer[] = [];
      r.on("data", (c: Buffer) => chunks.push(c));
      r.on("end", () => cb(null, Buffer.concat(chunks)));
    });
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toContain("spreadsheetml");
    expect(res.headers["content-disposition"]).toMatch(/attachment; filename="orders-\d{4}-\d{2}-\d{2}\.xlsx"/);
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(res.body as ArrayBuffer);
    const sheet = book.worksheets[0];
    expect(sheet.getRow(1).getCell(1).value).toBe("订单号");
    expect(sheet.rowCount).toBe(2);
    const row = sheet.getRow(2);
    expect(row.getCell(1).value).toBe(draft.orderNo);
    expect(row.getCell(2).value).toBe("草稿");
    expect(row.getCell(4).value).toBe(customer.name);
    expect(row.getCell(5).value).toBe("王小明");
    expect(row.getCell(6).value).toBe(30);
    const none = await s.agent.get("/m/admin/export").query({ status: "shipped", q: customer.code }).buffer(true).parse((r, cb) => {
      const chunks: Buffer[] = [];
      r.on("data", (c: Buffer) => chunks.push(c));
      r.on("end", () => cb(null, Buffer.concat(chunks)));
    });
    const empty = new ExcelJS.Workbook();
    await empty.xlsx.load(none.body as ArrayBuffer);
    expect(empty.worksheets[0].rowCount).toBe(1);
    expect((await s.agent.get("/m/admin/export").query({ from: "yesterday" })).status).toBe(422);
    // The order list offers admins the export with the filters they set.
    const list = await s.agent.get("/m/orders").query({ scope: "all", status: "draft", q: customer.code });
    expect(list.text).toContain(`href="/m/admin/export?status=draft&amp;q=${customer.code}"`);
    const rep = await signInAs(t, team.rep);
    expect((await rep.agent.get("/m/orders")).text).not.toContain("/m/admin/export");
  });
});
