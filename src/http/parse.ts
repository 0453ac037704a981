import type { z } from "zod";
import { DomainError } from "../domain/errors";

/** Validates `value` against `schema`; the first problem becomes a 422 naming its field, e.g. body.lines.0.qty. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, where: "body" | "query" | "params" | "headers"): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const [issue] = result.error.issues;
  const segments = issue.code === "unrecognized_keys" ? [...issue.path, issue.keys[0]] : issue.path;
  const path = [where, ...segments.map(String)].join(".");
  const message = issue.code === "unrecognized_keys" ? `unknown field ${issue.keys[0]}` : issue.message;
  throw new DomainError("validation_failed", `${path}: ${message}`, { path });
}
