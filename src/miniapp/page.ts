import type { Context } from "koa";
import type { Logger } from "pino";
import { z } from "zod";
import { DomainError } from "../domain/errors";
import type { Locale } from "../domain/i18n";
import { parse } from "../http/parse";
import type { MiniAppUser } from "../services/load-viewer";
import type { MiniAppDeps } from "./deps";
import type { Render } from "./render";

/** What each page module gets from routes.ts. */
export interface PageContext {
  deps: MiniAppDeps;
  render: Render;
  log: Logger;
}

export const viewerOf = (ctx: Context): MiniAppUser => ctx.state.viewer as MiniAppUser;
export const localeOfCtx = (ctx: Context): Locale => ctx.state.locale as Locale;

const IdParams = z.object({ id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER) });

/** The :id of /m/orders/:id; anything but a positive integer is a page that does not exist. */
export function orderIdOf(ctx: Context): number {
  const parsed = IdParams.safeParse(ctx.params);
  if (!parsed.success) throw new DomainError("not_found", "no such order");
  return parsed.data.id;
}

/** A form body validated against `schema`; the first problem names its field. */
export function formOf<S extends z.ZodType>(schema: S, ctx: Context): z.infer<S> {
  return parse(schema, ctx.request.body ?? {}, "body");
}

/** Where a form goes back to after it is done: a mini-app path the form named, else `fallback`. */
export function backTo(ctx: Context, fallback: string): string {
  const next = (ctx.request.body as Record<string, unknown> | undefined)?.next;
  return typeof next === "string" && /^\/m(\/[\w\-/?=&.%]*)?$/.test(next) && !next.startsWith("//") ? next : fallback;
}
