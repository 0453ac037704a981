import { usePhoneBrowser } from "../helpers/browser";

// One order through the mini-app in a real browser at 360×640, as three people signed in through the
// simulator's /dev/login: the rep places it, the manager approves it, the warehouse scans and ships it.
describe("the mini-app in a phone browser", () => {
  let orderUrl = "";
  const b = usePhoneBrowser();
  const signIn = b.signIn;

  it("lets a rep find a customer by pinyin initials, add a discounted product and submit it for approval", async () => {
    const { page } = b.phone;
    await signIn("sales", "/m/orders/new");
    await page.fill("#customer-q", "hdyl");
    await page.click("button.pick:has-text('华东医疗器械有限公司')");
    await page.fill("#product-q", "N95");
    await page.click("button.pick:has-text('N95口罩')");
    const line = page.locator(".line").first();
    await line.locator("input.qty").first().fill("2");
    await line.locator("input.qty").nth(1).fill("30");
    // The route preview comes from the server: a discount goes to the rep's manager.
    await page.waitForSelector(".route:has-text('直属主管审批')");
    await page.waitForSelector(".line:has-text('可用')");
    await b.phone.screenshot("rep-order-form");
    await page.click("button:has-text('提交订单')");
    await page.waitForURL(/\/m\/orders\/\d+\?done=submitted$/);
    orderUrl = page.url().split("?")[0];
    await page.waitForSelector(".badge:has-text('待审批')");
    expect(await page.textContent(".lines")).toContain("¥60.00");
    await b.phone.screenshot("rep-order-submitted");
    expect(b.phone.errors).toEqual([]);
  });

  it("lets the manager approve it from the inbox", async () => {
    const { page } = b.phone;
    expect(orderUrl).not.toBe("");
    await signIn("manager", "/m/approvals");
    const card = page.locator("section.approval").filter({ hasText: "华东医疗器械有限公司" });
    await card.locator("textarea").fill("同意，注意尽快发货");
    await b.phone.screenshot("manager-inbox");
    await card.locator("button:has-text('同意')").click();
    await page.waitForURL(/\/m\/approvals\?done=approved$/);
    await page.waitForSelector(".flash:has-text('已同意')");
    expect(await page.locator("section.approval").count()).toBe(0);
    expect(b.phone.errors).toEqual([]);
  });

  it("lets the warehouse confirm each item by typed barcode, warn on a wrong one, pack and ship", async () => {
    const { page } = b.phone;
    const id = orderUrl.split("/").pop();
    await signIn("warehouse", `/m/warehouse/orders/${id}`);
    await page.click("button:has-text('开始拣货')");
    await page.waitForURL(/done=picking/);
    const scan = page.locator("input[name=scanned]");
    await scan.fill("0000000000000");
    await scan.press("Enter");
    await page.waitForSelector(".flash--warn:has-text('不在此订单中')");
    const barcode = (await page.textContent("tbody tr .muted"))!.split("·")[1].trim();
    for (let i = 0; i < 2; i++) {
      await scan.fill(barcode);
      await scan.press("Enter");
    }
    await page.waitForSelector("tr.is-done");
    await b.phone.screenshot("warehouse-picked");
    await page.click("button:has-text('打包完成')");
    await page.waitForURL(/done=packed/);
    await page.fill("input[name=carrier]", "顺丰速运");
    await page.fill("input[name=trackingNo]", "SF1234567890");
    await page.click("button:has-text('发货')");
    await page.waitForURL(/done=shipped/);
    await page.waitForSelector(".badge:has-text('已发货')");
    await b.phone.screenshot("warehouse-shipped");
    await page.goto(orderUrl);
    expect(await page.textContent("main")).toContain("SF1234567890");
    expect(b.phone.errors).toEqual([]);
  });
});
