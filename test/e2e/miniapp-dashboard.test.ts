import type { Browser } from "playwright-core";
import { API_ACTOR, buildCustomer, buildProduct } from "../helpers/factories";
import { noApprovals } from "../helpers/jobs";
import { createTestApp, type TestApp } from "../helpers/test-app";
import { launchChromium, listen, phonePage, type PhonePage } from "../helpers/browser";

// The dashboard in a real phone browser: ECharts (its own asset) draws every chart on a canvas.
describe("the mini-app dashboard in a phone browser", () => {
  let t: TestApp;
  let server: Awaited<ReturnType<typeof listen>>;
  let browser: Browser;
  let phone: PhonePage;

  beforeAll(async () => {
    t = await createTestApp({ seed: true });
    const rep = await t.app.services.findPlatformUser("simulator", "sales");
    const product = await buildProduct(t.app, { onHand: 100, listPriceFen: 5000 });
    const customer = await buildCustomer(t.app);
    await noApprovals(t.app);
    for (const qty of [1, 3]) {
      await t.app.services.placeOrder({ customerCode: customer.code, lines: [{ sku: product.sku, qty }], source: "api", submit: true, salesRepId: rep?.id }, API_ACTOR);
    }
    await t.app.jobRunner({ schedule: false }).runNow("report-rollups");
    server = await listen(t);
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await t?.close();
  });
  beforeEach(async () => {
    phone = await phonePage(browser);
  });
  afterEach(async () => {
    await phone.close();
  });

  it("draws the trend, funnel, top products and reps charts, and switches to months", async () => {
    const { page } = phone;
    await page.goto(`${server.base}/dev/login?u=manager&next=${encodeURIComponent("/m/dashboard")}`);
    for (const id of ["chart-trend", "chart-funnel", "chart-products", "chart-reps"]) {
      await page.waitForSelector(`#${id} canvas`);
    }
    await phone.screenshot("dashboard-day");
    await page.click("a.seg__item[href='/m/dashboard?period=month']");
    await page.waitForSelector("#chart-trend canvas");
    expect(await page.locator("a.seg__item.is-active").getAttribute("href")).toBe("/m/dashboard?period=month");
    await phone.screenshot("dashboard-month");
    expect(phone.errors).toEqual([]);
  });
});
