// The app serves esbuild bundles from dist/assets (loadAssets refuses to start without them), so the
// suite builds them once before any test, with the same script as `npm run build`.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { buildAssets } = require("../../scripts/build-assets.js") as { buildAssets: () => Promise<Record<string, string>> };

export default async function globalSetup(): Promise<void> {
  await buildAssets();
}
