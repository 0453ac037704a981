import { z } from "zod";

const Line = z.object({
  sku: z.string().trim().min(1).max(64),
  qty: z.number().int().min(1).max(1_000_000),
  unitPriceFen: z.number().int().min(0).max(100_000_000_00).nullable().optional(),
});

export const QuoteBody = z.object({
  customerCode: z.string().trim().max(64).optional(),
  lines: z.array(Line).max(200),
  orderId: z.number().int().positive().optional(),
});

/** A new order from the form; the key makes a retried (or queued-offline) send place it once. */
export const CreateOrderBody = z.object({
  idempotencyKey: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, "must be 8–64 letters, digits, - or _"),
  customerCode: z.string().trim().min(1, "choose a customer").max(64),
  lines: z.array(Line).min(1, "add at least one product").max(200),
  note: z.string().trim().max(500).optional(),
  submit: z.boolean().default(false),
});

/** An edit of a draft or rejected order, at the version the form was opened on. */
export const ReviseOrderBody = z.object({
  expectedVersion: z.number().int().nonnegative(),
  customerCode: z.string().trim().min(1).max(64),
  lines: z.array(Line).min(1, "add at least one product").max(200),
  note: z.string().trim().max(500).optional(),
  submit: z.boolean().default(false),
});
