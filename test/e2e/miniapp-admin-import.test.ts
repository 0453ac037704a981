import ExcelJS from "exceljs";
import { usePhoneBrowser } from "../helpers/browser";

const XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

async function workbook(rows: unknown[][]): Promise<Buffer> {
  const book = new ExcelJS.Workbook();
  const sheet = book.addWorksheet("商品");
  for (const r of rows) sheet.addRow(r);
  return Buffer.from(await book.xlsx.writeBuffer());
}

// The admin's Excel import in a phone browser: a file with a bad row is refused with the row named and
// nothing imported; the corrected file previews clean and imports.
describe("the admin's Excel import in a phone browser", () => {
  const b = usePhoneBrowser();

  it("refuses a workbook with a bad row, naming it, then imports the corrected one", async () => {
    const { page } = b.phone;
    await b.signIn("admin", "/m/admin");
    await page.click("a[href='/m/admin/import']");
    await page.selectOption("#import-kind", "products");
    const bad = await workbook([["SKU", "名称", "单价"], ["E2E-1", "浏览器导入商品", "19.90"], ["E2E-2", "没有价格的商品", ""]]);
    await page.setInputFiles("#import-file", { name: "products.xlsx", mimeType: XLSX, buffer: bad });
    await page.click("button[data-import-mode='preview']");
    const row = page.locator(".bad-row[data-row='3']");
    await row.waitFor();
    expect(await row.textContent()).toContain("第 3 行");
    expect(await row.textContent()).toContain("单价 不能为空");
    expect(await page.locator(".bad-row").count()).toBe(1);
    expect(await page.isDisabled("#import-apply")).toBe(true);
    await b.phone.screenshot("admin-import-bad-row");
    expect(await b.t.app.db.models.Product.count({ where: { sku: ["E2E-1", "E2E-2"] } })).toBe(0);

    const good = await workbook([["SKU", "名称", "单价"], ["E2E-1", "浏览器导入商品", "19.90"], ["E2E-2", "补上价格的商品", "5"]]);
    await page.setInputFiles("#import-file", { name: "products.xlsx", mimeType: XLSX, buffer: good });
    await page.click("button[data-import-mode='preview']");
    await page.locator(".import-result[data-ok='true']").waitFor();
    await page.click("#import-apply");
    await page.locator(".import-result[data-applied='true']").waitFor();
    expect(await page.textContent("#import-result")).toContain("已导入 2 行");
    await b.phone.screenshot("admin-import-done");
    expect(await b.t.app.db.models.Product.count({ where: { sku: ["E2E-1", "E2E-2"] } })).toBe(2);
    expect(b.phone.errors).toEqual([]);
  });
});
