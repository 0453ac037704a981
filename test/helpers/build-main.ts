import fs from "node:fs";
import path from "node:path";
import { buildSync } from "esbuild";

const ROOT = path.resolve(__dirname, "../..");
/** Under dist/ (ignored by git), two levels down like dist/src, so paths.ts and migrate.ts find what they look for. */
export const TEST_BUILD_DIR = path.join(ROOT, "dist", "test-build");

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return tsFiles(full);
    return e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [full] : [];
  });
}

let built: string | null = null;

/**
 * src/ and migrations/ compiled file by file to CommonJS (esbuild, well under a second) for tests that run
 * the real process: `tsc -p tsconfig.build.json` emits the same modules but takes 20-60 s here, and the
 * types are checked by `npm run typecheck` anyway (jest itself runs the sources through swc per file).
 * Returns the path of main.js.
 */
export function buildMain(): string {
  if (built) return built;
  fs.rmSync(TEST_BUILD_DIR, { recursive: true, force: true });
  buildSync({
    entryPoints: [...tsFiles(path.join(ROOT, "src")), ...tsFiles(path.join(ROOT, "migrations"))],
    outdir: TEST_BUILD_DIR,
    outbase: ROOT,
    bundle: false,
    format: "cjs",
    platform: "node",
    target: "node20",
    logLevel: "warning",
  });
  built = path.join(TEST_BUILD_DIR, "src", "main.js");
  return built;
}
