/* global console */
// Bundles every piece of front-end code with esbuild: the mini-app's script and styles, and the two
// platform SDKs (dingtalk-jsapi is CommonJS only, @wecom/jssdk an ES module), so pages never load a CDN.
// Output: dist/assets/<name>-<hash>.{js,css} plus manifest.json naming them; `npm run build` and the
// test suite's global setup both call this.
const fs = require("node:fs");
const path = require("node:path");
const esbuild = require("esbuild");

const ROOT = path.resolve(__dirname, "..");
const OUT_DIR = path.join(ROOT, "dist", "assets");
const ENTRIES = {
  app: "miniapp/client/app.js",
  "app-css": "miniapp/client/app.css",
  dingtalk: "miniapp/client/dingtalk.js",
  wecom: "miniapp/client/wecom.js",
  // ECharts, loaded only by /m/dashboard.
  dashboard: "miniapp/client/dashboard.js",
  // The DingTalk sign-in and action-confirm pages, which live outside the mini-app's layout.
  "dingtalk-pages": "miniapp/client/dingtalk-pages.js",
  "plain-pages-css": "miniapp/client/plain-pages.css",
};

/** Builds all entries; returns the manifest (entry name → file name under dist/assets). */
async function buildAssets(outDir = OUT_DIR) {
  fs.rmSync(outDir, { recursive: true, force: true });
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: Object.fromEntries(Object.entries(ENTRIES).map(([name, file]) => [name, path.join(ROOT, file)])),
    bundle: true,
    minify: true,
    format: "iife",
    target: ["es2020"], // the WebViews inside WeCom and DingTalk lag behind the browsers
    entryNames: "[name]-[hash]",
    outdir: outDir,
    metafile: true,
    legalComments: "none",
    logLevel: "warning",
  });
  const manifest = {};
  for (const [file, meta] of Object.entries(result.metafile.outputs)) {
    if (!meta.entryPoint) continue;
    const entry = Object.keys(ENTRIES).find((name) => path.resolve(ROOT, meta.entryPoint) === path.join(ROOT, ENTRIES[name]));
    if (entry) manifest[entry] = path.basename(file);
  }
  fs.writeFileSync(path.join(outDir, "manifest.json"), JSON.stringify(manifest, null, 2));
  return manifest;
}

module.exports = { buildAssets, OUT_DIR };

if (require.main === module) {
  buildAssets().then(
    // stderr: `npm run cli` builds first, and its stdout is for the command's own output.
    (m) => process.stderr.write(`assets built: ${Object.values(m).join(", ")}\n`),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
