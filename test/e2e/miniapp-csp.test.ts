import ExcelJS from "exceljs";
import type { Page } from "playwright-core";
import { encodeKey } from "../../src/channels/dingtalk/keys";
import { actionPath } from "../../src/channels/dingtalk/links";
import { API_ACTOR, buildCustomer, buildProduct } from "../helpers/factories";
import { launchChromium, listen, phonePage, usePhoneBrowser } from "../helpers/browser";
import { createTestApp } from "../helpers/test-app";
import { dingtalkEnv } from "../helpers/dingtalk-gateway";

interface Violation {
  page: string;
  directive: string;
  blocked: string;
  sample: string;
}

/**
 * Every Content-Security-Policy violation on any page this Page opens, reported from inside the page
 * (the securitypolicyviolation event) before any script of ours runs.
 */
async function watchCsp(page: Page): Promise<Violation[]> {
  const seen: Violation[] = [];
  await page.exposeBinding("__cspViolation", (_source, v: Violation) => void seen.push(v));
  // As text: it runs in the page, and the test's TypeScript has no DOM types.
  await page.addInitScript({
    content: `document.addEventListener("securitypolicyviolation", (e) =>
      window.__cspViolation({ page: location.pathname, directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample }));`,
  });
  return seen;
}

// The pages of the mini-app under its strict policy (script-src 'self', style-src 'self', no eval), used
// the way people use them: Alpine's bindings must all work through the CSP build, and nothing may be
// refused. Console errors (Chromium logs each refusal there too) fail the test as well.
describe("the mini-app under its Content-Security-Policy", () => {
  const b = usePhoneBrowser(async (t) => {
    const rep = await t.app.services.findPlatformUser("simulator", "sales");
    const product = await buildProduct(t.app, { onHand: 100, listPriceFen: 5000 });
    const customer = await buildCustomer(t.app);
    for (const qty of [1, 3]) {
      await t.app.services.placeOrder({ customerCode: customer.code, lines: [{ sku: product.sku, qty }], source: "api", submit: true, salesRepId: rep?.id }, API_ACTOR);
    }
    await t.app.jobRunner({ schedule: false }).runNow("report-rollups");
  });
  let orderUrl = "";

  it("runs the order form, the list and the detail page without a violation", async () => {
    const { page } = b.phone;
    const violations = await watchCsp(page);
    await b.signIn("sales", "/m/orders/new");
    await page.fill("#customer-q", "hdyl");
    await page.click("button.pick:has-text('华东医疗器械有限公司')");
    await page.waitForSelector(".chosen:has-text('华东医疗器械有限公司（')");
    // Clearing and choosing again goes through the component's methods, not inline statements.
    await page.click(".chosen button");
    await page.waitForSelector("#customer-q", { state: "visible" });
    await page.fill("#customer-q", "hdyl");
    await page.click("button.pick:has-text('华东医疗器械有限公司')");
    await page.fill("#product-q", "N95");
    await page.waitForSelector("button.pick:has-text('N95口罩') .muted:has-text('¥')");
    await page.click("button.pick:has-text('N95口罩')");
    const line = page.locator(".line").first();
    await line.locator("input.qty").first().fill("2");
    await line.locator("input.qty").nth(1).fill("30");
    await page.waitForSelector(".route:has-text('直属主管审批')");
    await page.waitForSelector(".route .muted:has-text('· ')");
    await page.waitForSelector(".line.line--warn, .line:has-text('可用')");
    expect(await page.textContent(".total")).toMatch(/^¥\d/);
    await page.fill("#product-q", "zzzz-nothing");
    await page.waitForSelector("p.muted:has-text('没有找到')", { state: "visible" }).catch(() => undefined);
    await page.fill("#product-q", "");
    await page.click("button:has-text('提交订单')");
    await page.waitForURL(/\/m\/orders\/\d+\?done=submitted$/);
    orderUrl = page.url().split("?")[0];
    await page.goto(`${b.base}/m/orders`);
    await page.waitForSelector("ul.list a.row");
    await page.goto(orderUrl);
    await page.waitForSelector(".badge:has-text('待审批')");
    expect(violations).toEqual([]);
    expect(b.phone.errors).toEqual([]);
  });

  it("runs the approvals inbox and the dashboard charts, tooltips included, without a violation", async () => {
    const { page } = b.phone;
    const violations = await watchCsp(page);
    await b.signIn("manager", "/m/approvals");
    const card = page.locator("section.approval").filter({ hasText: "华东医疗器械有限公司" });
    await card.locator("summary").click();
    await card.locator("button:has-text('同意')").click();
    await page.waitForURL(/\/m\/approvals\?done=approved$/);
    await page.goto(`${b.base}/m/dashboard`);
    for (const id of ["chart-trend", "chart-funnel", "chart-products", "chart-reps"]) await page.waitForSelector(`#${id} canvas`);
    for (const id of ["chart-trend", "chart-funnel"]) {
      const box = (await page.locator(`#${id}`).boundingBox())!;
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    }
    await page.waitForTimeout(300);
    expect(violations).toEqual([]);
    expect(b.phone.errors).toEqual([]);
  });

  it("runs the warehouse queue, the scanning pick screen and the packing slip without a violation", async () => {
    const { page } = b.phone;
    const violations = await watchCsp(page);
    const id = orderUrl.split("/").pop();
    await b.signIn("warehouse", "/m/warehouse");
    await page.waitForSelector(`a.row[href='/m/warehouse/orders/${id}']`);
    await page.goto(`${b.base}/m/warehouse/orders/${id}`);
    await page.click("button:has-text('开始拣货')");
    await page.waitForURL(/done=picking/);
    const scan = page.locator("input[name=scanned]");
    await scan.fill("0000000000000");
    await scan.press("Enter");
    await page.waitForSelector(".flash.flash--warn:has-text('不在此订单中')");
    const barcode = (await page.textContent("tbody tr .muted"))!.split("·")[1].trim();
    for (let i = 0; i < 2; i++) {
      await scan.fill(barcode);
      await scan.press("Enter");
    }
    await page.waitForSelector("tr.is-done");
    expect(await page.locator(".flash.flash--warn").count()).toBe(0);
    await page.goto(`${b.base}/m/warehouse/orders/${id}/slip`);
    await page.waitForSelector(".slip-sheet");
    await page.goto(orderUrl);
    await page.waitForSelector(".lines");
    expect(violations).toEqual([]);
    expect(b.phone.errors).toEqual([]);
  });

  it("runs the admin pages and the Excel import preview without a violation", async () => {
    const { page } = b.phone;
    const violations = await watchCsp(page);
    await b.signIn("admin", "/m/admin");
    for (const path of ["/m/admin/users", "/m/admin/rules", "/m/admin/jobs", "/m/admin/outbox", "/m/orders?scope=all"]) await page.goto(`${b.base}${path}`);
    await page.goto(`${b.base}/m/admin/import`);
    await page.selectOption("#import-kind", "products");
    const book = new ExcelJS.Workbook();
    const sheet = book.addWorksheet("商品");
    for (const r of [["SKU", "名称", "单价"], ["CSP-1", "策略测试商品", "9.90"], ["CSP-2", "没有价格", ""]]) sheet.addRow(r);
    await page.setInputFiles("#import-file", { name: "p.xlsx", mimeType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", buffer: Buffer.from(await book.xlsx.writeBuffer()) });
    await page.click("button[data-import-mode='preview']");
    await page.locator(".bad-row[data-row='3']").waitFor();
    expect(violations).toEqual([]);
    expect(b.phone.errors).toEqual([]);
  });

  it("notices a violation when there is one (the watcher itself works)", async () => {
    const { page } = b.phone;
    const violations = await watchCsp(page);
    await b.signIn("sales", "/m");
    await page.evaluate(`document.body.insertAdjacentHTML("beforeend", '<div style="color: red"></div>')`);
    await page.waitForTimeout(200);
    expect(violations.map((v) => v.directive)).toEqual(["style-src-attr"]);
  });
});

describe("the DingTalk pages under the same policy", () => {
  it("runs the sign-in page's and the action page's scripts from files, without a violation", async () => {
    // PUBLIC_URL over http, as the browser reaches the test server (https would upgrade every request).
    const t = await createTestApp({ seed: true, env: dingtalkEnv({ PUBLIC_URL: "http://127.0.0.1" }) });
    const server = await listen(t);
    const browser = await launchChromium();
    try {
      const phone = await phonePage(browser);
      const violations = await watchCsp(phone.page);
      // Outside the DingTalk client there is no window.dd: the page's script says so, which shows it ran.
      await phone.page.goto(`${server.base}/dingtalk/h5?next=/m`);
      await phone.page.waitForSelector("#msg:has-text('请在钉钉客户端中打开此页面')");
      await phone.page.goto(`${server.base}/dev/login?u=sales&next=/m`);
      await phone.page.goto(`${server.base}${actionPath(t.app.config.dingtalk!, encodeKey("noop"))}`);
      await phone.page.click("#go");
      // The page's first text names 钉钉 too: wait for the answer to replace it, not for a word both share.
      await phone.page.waitForSelector("#msg:not(:has-text('点击确认后'))");
      expect(await phone.page.textContent("#msg")).toContain("钉钉");
      expect(violations).toEqual([]);
      expect(phone.errors.filter((e) => !/Failed to load resource: the server responded with a status of 4\d\d/.test(e))).toEqual([]);
      await phone.close();
    } finally {
      await browser.close();
      await server.close();
      await t.close();
    }
  }, 60_000);
});
