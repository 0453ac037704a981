import fs from "node:fs/promises";
import path from "node:path";
import type { Context } from "koa";
import { DomainError } from "../../../domain/errors";

/** The only files /dev/static serves: a fixed list, so no path ever reaches the disk from the URL. */
const FILES: Record<string, string> = {
  "dev-chat.js": "text/javascript; charset=utf-8",
  "dev-chat.css": "text/css; charset=utf-8",
};

/** Sends one of the console's two assets, read fresh each time (it is a dev tool; edits show on reload). */
export async function serveStatic(ctx: Context, dir: string, file: string | undefined): Promise<void> {
  const type = file && Object.hasOwn(FILES, file) ? FILES[file] : undefined;
  if (!file || !type) throw new DomainError("not_found", `no static file ${file ?? ""}`);
  ctx.body = await fs.readFile(path.join(dir, file));
  ctx.type = type;
  ctx.set("Cache-Control", "no-cache");
  ctx.set("X-Content-Type-Options", "nosniff");
}
