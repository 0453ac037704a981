/** Stable, snake_case codes that API clients and the bot may match on. */
export type ErrorCode =
  | "validation_failed"
  | "not_found"
  | "forbidden"
  | "unauthorized"
  | "invalid_transition"
  | "insufficient_stock"
  | "idempotency_conflict"
  | "step_not_pending"
  | "not_an_approver"
  | "no_approver"
  | "on_hand_below_reserved"
  | "overpayment"
  | "quantity_exceeded"
  | "conflict"
  | "rate_limited"
  | "unsupported_media_type"
  | "method_not_allowed"
  | "payload_too_large"
  | "invalid_json"
  /** Could not be done in time (a store that did not answer); nothing was acknowledged, try again. */
  | "unavailable";

/** A refusal the caller can understand and act on; knows nothing of HTTP. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "DomainError";
  }
}

export function isDomainError(err: unknown): err is DomainError {
  return err instanceof DomainError;
}
