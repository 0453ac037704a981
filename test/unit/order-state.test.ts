import { DomainError } from "../../src/domain/errors";
import { MOVES, ORDER_STATUSES, transition, type OrderAction } from "../../src/domain/order-state";

const LEGAL: Array<[OrderAction, string, string]> = [
  ["submit", "draft", "pending_approval"],
  ["approve", "pending_approval", "approved"],
  ["reject", "pending_approval", "rejected"],
  ["revise", "rejected", "draft"],
  ["start_picking", "approved", "picking"],
  ["pack", "picking", "packed"],
  ["ship_partial", "packed", "partially_shipped"],
  ["ship_partial", "partially_shipped", "partially_shipped"],
  ["ship_full", "packed", "shipped"],
  ["ship_full", "partially_shipped", "shipped"],
  ["deliver", "shipped", "delivered"],
  ["complete", "delivered", "completed"],
  ["cancel", "draft", "cancelled"],
  ["cancel", "pending_approval", "cancelled"],
  ["cancel", "approved", "cancelled"],
  ["cancel", "rejected", "cancelled"],
  ["cancel", "picking", "cancelled"],
  ["cancel", "packed", "cancelled"],
  ["archive", "draft", "archived"],
];

describe("order state machine", () => {
  it.each(LEGAL)("allows %s from %s to %s", (action, from, to) => {
    expect(transition(from as never, action)).toBe(to);
  });

  const legal = new Set(LEGAL.map(([a, f]) => `${a}:${f}`));
  const illegal = (Object.keys(MOVES) as OrderAction[]).flatMap((action) =>
    ORDER_STATUSES.filter((s) => !legal.has(`${action}:${s}`)).map((s) => [action, s] as const),
  );

  it("has exactly the legal moves in its table", () => {
    const fromTable = (Object.keys(MOVES) as OrderAction[]).flatMap((a) => MOVES[a].from.map((f) => `${a}:${f}`));
    expect(new Set(fromTable)).toEqual(legal);
  });

  it.each(illegal)("refuses %s from %s with invalid_transition", (action, from) => {
    let thrown: unknown;
    try {
      transition(from, action);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(DomainError);
    expect(thrown).toMatchObject({ code: "invalid_transition", details: { from, action } });
  });

  it("never lets anything leave cancelled or completed", () => {
    for (const action of Object.keys(MOVES) as OrderAction[]) {
      expect(() => transition("cancelled", action)).toThrow(DomainError);
      expect(() => transition("completed", action)).toThrow(DomainError);
    }
  });
});
