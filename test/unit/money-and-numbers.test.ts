import { discountBp, formatFen, lineTotalFen, yuanToFen } from "../../src/domain/money";
import { formatOrderNo } from "../../src/domain/order-no";
import { businessDay } from "../../src/domain/time";

describe("money", () => {
  it.each([
    ["30", 3000],
    ["12.5", 1250],
    ["0.01", 1],
    ["1,234.50", 123450],
    ["¥99", 9900],
    ["￥ 8.8", 880],
    [7, 700],
  ])("reads %p yuan as %p fen", (text, fen) => {
    expect(yuanToFen(text)).toBe(fen);
  });

  it.each(["", "abc", "1.234", "-5", "1e3", "12..5"])("refuses %p as money", (text) => {
    expect(yuanToFen(text)).toBeNull();
  });

  it("formats fen for people", () => {
    expect(formatFen(123450)).toBe("¥1,234.50");
    expect(formatFen(5)).toBe("¥0.05");
    expect(formatFen(-100)).toBe("-¥1.00");
  });

  it("computes totals and discounts in integers", () => {
    expect(lineTotalFen(1250, 3)).toBe(3750);
    expect(() => lineTotalFen(Number.MAX_SAFE_INTEGER, 2)).toThrow(RangeError);
    expect(discountBp(1000, 850)).toBe(1500);
    expect(discountBp(1000, 1200)).toBe(0);
  });
});

describe("order numbers", () => {
  it("use the Shanghai calendar day", () => {
    // 2026-11-23 17:00 UTC is already 24 November in Shanghai.
    expect(businessDay(new Date("2026-11-23T17:00:00Z"))).toBe("20261124");
    expect(businessDay(new Date("2026-11-23T15:59:59Z"))).toBe("20261123");
    expect(formatOrderNo(new Date("2026-11-23T02:00:00Z"), 7)).toBe("SO-20261123-0007");
    expect(formatOrderNo(new Date("2026-11-23T02:00:00Z"), 12345)).toBe("SO-20261123-12345");
  });
});
