import { z } from "zod";
import { ORDER_STATUSES } from "../../../domain/order-state";
import { MAX_LINES, MAX_PRICE_FEN, MAX_QTY } from "../../../services/support/build-lines";

const code = z.string().trim().min(1).max(64);
const qty = z.number().int().min(1).max(MAX_QTY);
const fen = z.number().int().min(0).max(MAX_PRICE_FEN);
const isoInstant = z.iso.datetime({ offset: true, message: "must be an ISO-8601 date-time, e.g. 2026-11-23T08:00:00Z" });
const isoDateOrInstant = z.union([z.iso.date(), isoInstant], { message: "must be a date (2026-11-23) or an ISO-8601 date-time" });

export const OrderIdParams = z.object({ id: z.string().regex(/^\d{1,12}$/, "must be an order id").transform(Number) });

export const CreateOrderBody = z
  .object({
    customerCode: code,
    lines: z
      .array(z.object({ sku: code, qty, unitPriceFen: fen.optional() }).strict())
      .min(1, "an order needs at least one line")
      .max(MAX_LINES),
    note: z.string().max(500).optional(),
    submit: z.boolean().optional(),
    shipTo: z
      .object({ name: z.string().max(64).optional(), phone: z.string().max(32).optional(), address: z.string().max(255).optional() })
      .strict()
      .optional(),
  })
  .strict();

export const IdempotencyHeaders = z.object({
  "idempotency-key": z
    .string()
    .regex(/^[\x21-\x7e]{1,128}$/, "must be 1–128 printable ASCII characters")
    .optional(),
});

export const ListOrdersQuery = z
  .object({
    status: z
      .string()
      .transform((s) => s.split(",").filter(Boolean))
      .pipe(z.array(z.enum(ORDER_STATUSES)))
      .optional(),
    customerCode: code.optional(),
    from: isoDateOrInstant.optional(),
    to: isoDateOrInstant.optional(),
    q: z.string().max(64).optional(),
    cursor: z.string().max(64).optional(),
    limit: z.coerce.number().int().min(1).max(200).optional(),
  })
  .strict();

export const SubmitBody = z.object({ expectedVersion: z.number().int().min(1).optional() }).strict();
export const EmptyBody = z.object({}).strict();
export const CancelBody = z.object({ reason: z.string().trim().min(1, "a reason is required").max(500) }).strict();

export const DecisionBody = z
  .object({
    decision: z.enum(["approve", "reject"]),
    comment: z.string().max(500).optional(),
    approverId: z.number().int().positive(),
    stepId: z.number().int().positive().optional(),
  })
  .strict();

const shipLine = z.object({ sku: code, qty }).strict();
export const ShipmentBody = z
  .object({
    carrier: z.string().trim().min(1).max(64),
    trackingNo: z.string().trim().regex(/^[A-Za-z0-9-]{4,64}$/, "must be 4–64 letters, digits or dashes"),
    lines: z.array(shipLine).min(1).max(MAX_LINES).optional(),
  })
  .strict();

export const PickBody = z
  .object({ lines: z.array(z.object({ sku: code, qty: z.number().int().min(0).max(MAX_QTY) }).strict()).min(1).max(MAX_LINES) })
  .strict();

// A well-formed instant can still lie outside what the database stores (UTC year 10000); none is a real payment date.
const paidAt = isoInstant.refine((s) => {
  const year = new Date(s).getUTCFullYear();
  return year >= 2000 && year < 2100;
}, "must be a date-time between 2000 and 2099");

export const PaymentBody = z
  .object({
    amountFen: z.number().int().min(1).max(MAX_PRICE_FEN * MAX_QTY),
    paidAt,
    method: z.string().max(32).optional(),
    reference: z.string().max(128).optional(),
  })
  .strict();

/** "2026-11-23" is the start of that day in Shanghai; instants are taken as given. */
export function toInstant(s: string): Date {
  return /^\d{4}-\d{2}-\d{2}$/.test(s) ? new Date(`${s}T00:00:00+08:00`) : new Date(s);
}
