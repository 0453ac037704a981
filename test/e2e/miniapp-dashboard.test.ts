import { API_ACTOR, buildCustomer, buildProduct } from "../helpers/factories";
import { noApprovals } from "../helpers/jobs";
import { usePhoneBrowser } from "../helpers/browser";

// The dashboard in a real phone browser: ECharts (its own asset) draws every chart on a canvas.
describe("the mini-app dashboard in a phone browser", () => {
  const b = usePhoneBrowser(async (t) => {
    const rep = await t.app.services.findPlatformUser("simulator", "sales");
    const product = await buildProduct(t.app, { onHand: 100, listPriceFen: 5000 });
    const customer = await buildCustomer(t.app);
    await noApprovals(t.app);
    for (const qty of [1, 3]) {
      await t.app.services.placeOrder({ customerCode: customer.code, lines: [{ sku: product.sku, qty }], source: "api", submit: true, salesRepId: rep?.id }, API_ACTOR);
    }
    await t.app.jobRunner({ schedule: false }).runNow("report-rollups");
  });

  it("draws the trend, funnel, top products and reps charts, and switches to months", async () => {
    const { page } = b.phone;
    await b.signIn("manager", "/m/dashboard");
    for (const id of ["chart-trend", "chart-funnel", "chart-products", "chart-reps"]) {
      await page.waitForSelector(`#${id} canvas`);
    }
    await b.phone.screenshot("dashboard-day");
    await page.click("a.seg__item[href='/m/dashboard?period=month']");
    await page.waitForSelector("#chart-trend canvas");
    expect(await page.locator("a.seg__item.is-active").getAttribute("href")).toBe("/m/dashboard?period=month");
    await b.phone.screenshot("dashboard-month");
    expect(b.phone.errors).toEqual([]);
  });
});
