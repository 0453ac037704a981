import type { z } from "zod";
import { DomainError } from "../domain/errors";

type Issue = z.core.$ZodIssue;

/** Validates `value` against `schema`; the first problem becomes a 422 naming its field, e.g. body.lines.0.qty. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, where: "body" | "query" | "params" | "headers"): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = firstIssue(result.error.issues);
  const segments = issue.code === "unrecognized_keys" ? [...issue.path, issue.keys[0]] : issue.path;
  const path = [where, ...segments.map(String)].join(".");
  const message = issue.code === "unrecognized_keys" ? `unknown field ${issue.keys[0]}` : issue.message;
  throw new DomainError("validation_failed", `${path}: ${message}`, { path });
}

/**
 * A failed union names no field. When exactly one branch got past its type check (one product rather
 * than a list of them), that branch's first problem is the one to report.
 */
function firstIssue(issues: readonly Issue[]): Issue {
  const [issue] = issues;
  if (issue.code !== "invalid_union") return issue;
  const near = issue.errors.filter(([first]) => first && !(first.code === "invalid_type" && first.path.length === 0));
  if (near.length !== 1) return issue;
  const inner = firstIssue(near[0]);
  return { ...inner, path: [...issue.path, ...inner.path] };
}

const LOCATED = /^(body|query|params|headers)(\.|$)/;

/**
 * Services name fields of their own input (`lines.0.sku`); over HTTP that input is the body, so the
 * refusal names `body.lines.0.sku`. `single`: the body was one object the route made a list of one.
 */
export async function inBody<T>(work: Promise<T>, opts: { single?: boolean } = {}): Promise<T> {
  try {
    return await work;
  } catch (err) {
    const path = err instanceof DomainError ? err.details?.path : undefined;
    if (!(err instanceof DomainError) || typeof path !== "string" || LOCATED.test(path)) throw err;
    const field = opts.single ? path.replace(/^0(\.|$)/, "") : path;
    throw new DomainError(err.code, err.message, { ...err.details, path: field ? `body.${field}` : "body" });
  }
}
