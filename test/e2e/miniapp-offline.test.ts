import { usePhoneBrowser } from "../helpers/browser";

// A rep with no signal: the draft survives a reload, saving queues the order on the phone, and it is
// sent exactly once when the phone is back online.
describe("the order form without a signal", () => {
  const b = usePhoneBrowser();

  it("keeps the draft, queues the order offline and sends it once when back online", async () => {
    const { page } = b.phone;
    await b.signIn("sales2", "/m/orders/new");
    await page.fill("#customer-q", "ACME");
    await page.click("button.pick:has-text('ACME Trading Co.')");
    await page.fill("#product-q", "SKU-2002");
    await page.click("button.pick:has-text('丁腈手套')");
    await page.locator(".line input.qty").first().fill("3");
    await page.waitForSelector(".line:has-text('可用')");

    await page.context().setOffline(true);
    await page.reload().catch(() => undefined); // offline: the reload itself fails; go back online for it
    await page.context().setOffline(false);
    await page.reload();
    await page.waitForSelector(".flash:has-text('已恢复本机保存的草稿')");
    expect(await page.locator(".line input.qty").first().inputValue()).toBe("3");

    await page.context().setOffline(true);
    await page.waitForSelector(".flash--warn:has-text('当前离线')");
    await page.click("button:has-text('提交订单')");
    await page.waitForSelector(".flash:has-text('已保存在本机')");
    await b.phone.screenshot("rep-order-queued-offline");
    const before = await b.t.app.services.listOrders({ customerCode: "ACME" });
    expect(before.items).toHaveLength(0);

    await page.context().setOffline(false);
    // Back online: the page sends the queue by itself.
    await page.waitForFunction(() => localStorage.getItem("co.queue") === "[]", undefined, { timeout: 10_000 });
    expect((await b.t.app.services.listOrders({ customerCode: "ACME" })).items).toHaveLength(1);
    // Any page sends what is still queued: opening the home page sends nothing twice.
    await page.goto(`${b.base}/m`);
    await page.waitForLoadState("networkidle");
    const after = await b.t.app.services.listOrders({ customerCode: "ACME" });
    expect(after.items).toHaveLength(1);
    expect(after.items[0]).toMatchObject({ status: "approved", source: "miniapp", totalFen: 4500 });
    expect(await page.evaluate(() => localStorage.getItem("co.queue"))).toBe("[]");
    expect(b.phone.errors.filter((e) => !e.includes("ERR_INTERNET_DISCONNECTED"))).toEqual([]);
  });
});
