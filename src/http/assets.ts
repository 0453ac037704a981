import fs from "node:fs";
import path from "node:path";
import Router from "@koa/router";
import { DomainError } from "../domain/errors";

/** The esbuild bundles (scripts/build-assets.js): every front-end file the app serves. */
export interface Assets {
  /** The URL of an entry ("app", "app-css", "dingtalk", "wecom"); names carry a content hash. */
  url(entry: AssetEntry): string;
  /** An entry's bytes, for routes that serve it under a fixed path. */
  read(entry: AssetEntry): Buffer;
  /** A built file by its hashed name; undefined for any other name. */
  file(name: string): Buffer | undefined;
}

export type AssetEntry = "app" | "app-css" | "dingtalk" | "wecom" | "dashboard" | "dingtalk-pages" | "plain-pages-css";

export const ASSETS_PREFIX = "/assets";

const TYPES: Record<string, string> = { ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8" };

/**
 * Reads dist/assets/manifest.json once. A missing build is a startup error with the fix in it, not
 * a page without scripts.
 */
export function loadAssets(dir: string): Assets {
  const manifestFile = path.join(dir, "manifest.json");
  if (!fs.existsSync(manifestFile)) throw new Error(`front-end assets are not built (${manifestFile} missing): run npm run build`);
  const manifest = JSON.parse(fs.readFileSync(manifestFile, "utf8")) as Record<string, string>;
  const bytes = new Map<string, Buffer>();
  for (const file of Object.values(manifest)) bytes.set(file, fs.readFileSync(path.join(dir, file)));
  const fileOf = (entry: AssetEntry) => {
    const file = manifest[entry];
    if (!file) throw new Error(`asset ${entry} is not in ${manifestFile}: run npm run build`);
    return file;
  };
  return {
    url: (entry) => `${ASSETS_PREFIX}/${fileOf(entry)}`,
    read: (entry) => bytes.get(fileOf(entry))!,
    file: (name) => bytes.get(name),
  };
}

/** GET /assets/<name>-<hash>.<ext>: held in memory, cached for a year (the hash changes with the content). */
export function assetRoutes(assets: Assets): Router {
  const router = new Router();
  router.get(`${ASSETS_PREFIX}/:file`, async function serveAsset(ctx) {
    const body = assets.file(ctx.params.file);
    const type = TYPES[path.extname(ctx.params.file)];
    if (!body || !type) throw new DomainError("not_found", `no asset ${ctx.params.file}`);
    ctx.type = type;
    ctx.set("Cache-Control", "public, max-age=31536000, immutable");
    ctx.set("X-Content-Type-Options", "nosniff");
    ctx.body = body;
  });
  return router;
}
