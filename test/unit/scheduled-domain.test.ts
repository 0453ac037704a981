import { countersignComplete, planEscalation, withEscalated } from "../../src/domain/approval-escalation";
import { daysOverdue, dueAtFor, dueDayText } from "../../src/domain/receivables";
import { suggestedReorderQty, isLowStock } from "../../src/domain/reorder";
import { DEFAULT_CALENDAR, isWorkingTime, parseHoursRange, parseWeekdays, workingHoursBetween } from "../../src/domain/working-hours";

/** A Shanghai wall-clock time as an instant. */
const sh = (local: string) => new Date(`${local}+08:00`);

describe("working-hours calendar", () => {
  it("counts only weekday hours between 09:00 and 18:00", () => {
    expect(workingHoursBetween(sh("2026-03-02T10:00:00"), sh("2026-03-02T12:00:00"))).toBe(2); // a Monday
    expect(workingHoursBetween(sh("2026-03-02T17:00:00"), sh("2026-03-03T10:00:00"))).toBe(2);
    expect(workingHoursBetween(sh("2026-03-02T07:00:00"), sh("2026-03-02T08:59:00"))).toBe(0);
  });

  it("skips the weekend: Friday 17:00 to Monday 10:00 is two working hours", () => {
    expect(workingHoursBetween(sh("2026-03-06T17:00:00"), sh("2026-03-09T10:00:00"))).toBe(2);
  });

  it("knows nights and weekends are not working time", () => {
    expect(isWorkingTime(sh("2026-03-02T09:00:00"))).toBe(true);
    expect(isWorkingTime(sh("2026-03-02T18:00:00"))).toBe(false);
    expect(isWorkingTime(sh("2026-03-07T11:00:00"))).toBe(false); // Saturday
    expect(isWorkingTime(sh("2026-03-07T11:00:00"), { ...DEFAULT_CALENDAR, days: [1, 2, 3, 4, 5, 6] })).toBe(true);
  });

  it("parses the calendar settings and refuses nonsense", () => {
    expect(parseWeekdays("1-5")).toEqual([1, 2, 3, 4, 5]);
    expect(parseWeekdays("1,3,6-7")).toEqual([1, 3, 6, 7]);
    expect(parseWeekdays("0-5")).toBeNull();
    expect(parseHoursRange("08:30-17:30")).toEqual({ startMinute: 510, endMinute: 1050 });
    expect(parseHoursRange("18:00-09:00")).toBeNull();
  });
});

describe("receivables", () => {
  it("counts net 30 across a month end: delivered 31 January is due 2 March, overdue from 3 March", () => {
    const due = dueAtFor(sh("2026-01-31T15:00:00"), 30);
    expect(dueDayText(due)).toBe("2026-03-02");
    expect(daysOverdue(due, sh("2026-03-02T23:59:00"))).toBe(0);
    expect(daysOverdue(due, sh("2026-03-03T00:00:00"))).toBe(1);
    expect(daysOverdue(due, sh("2026-03-18T09:00:00"))).toBe(16);
  });

  it("uses the Shanghai day of delivery, not the UTC one, and leap years", () => {
    // 01:00 on 1 Feb in Shanghai is still 31 Jan in UTC.
    expect(dueDayText(dueAtFor(sh("2028-02-01T01:00:00"), 28))).toBe("2028-02-29");
    expect(dueDayText(dueAtFor(sh("2026-12-15T10:00:00"), 30))).toBe("2027-01-14");
  });
});

describe("reorder suggestion", () => {
  it("covers the lead time at the last 30 days' pace, plus safety stock, minus what is available", () => {
    expect(suggestedReorderQty({ available: 40, safetyStock: 50, consumed: 60, windowDays: 30, leadTimeDays: 7 })).toBe(24);
    expect(suggestedReorderQty({ available: 10, safetyStock: 20, consumed: 0, windowDays: 30, leadTimeDays: 7 })).toBe(10);
    expect(suggestedReorderQty({ available: 100, safetyStock: 20, consumed: 30, windowDays: 30, leadTimeDays: 7 })).toBe(0);
  });

  it("calls a sku low only below a safety stock that is set", () => {
    expect(isLowStock(49, 50)).toBe(true);
    expect(isLowStock(50, 50)).toBe(false);
    expect(isLowStock(-1, 0)).toBe(false);
  });
});

describe("approval escalation", () => {
  const at = new Date("2026-03-02T02:00:00Z");

  it("adds the manager of each undecided approver, once", () => {
    const plan = planEscalation([1, 2], new Set([1]), new Map([[1, 10], [2, 20]]), [], at);
    expect(plan).toEqual([{ from: 2, to: 20, added: true, at: at.toISOString() }]);
    expect(withEscalated([1, 2], plan)).toEqual([1, 2, 20]);
    expect(planEscalation([1, 2, 20], new Set([1]), new Map([[2, 20]]), plan, at)).toEqual([]);
  });

  it("lets the manager's approval stand in for their report on a countersign step", () => {
    const esc = [{ from: 2, to: 20, added: true, at: at.toISOString() }];
    expect(countersignComplete([1, 2, 20], esc, new Set([1]))).toBe(false);
    expect(countersignComplete([1, 2, 20], esc, new Set([1, 20]))).toBe(true);
    expect(countersignComplete([1, 2], [], new Set([1, 2]))).toBe(true);
  });
});
