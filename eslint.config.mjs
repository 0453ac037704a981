import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "data/**", "coverage/**", "miniapp/static/vendor/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" }],
      "no-restricted-imports": ["error", { patterns: [] }],
    },
  },
  {
    // domain/ is pure: no database, no platform, no HTTP, no logger.
    files: ["src/domain/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: ["../services/*", "../db/*", "../http/*", "../channels/*", "../bot/*", "../outbox/*", "../jobs/*", "sequelize", "koa", "pino", "ioredis", "nunjucks"] },
      ],
    },
  },
  {
    // Services never talk to a chat platform or HTTP directly: they write outbox rows.
    files: ["src/services/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: ["../channels/*", "../../channels/*", "../http/*", "../../http/*", "../bot/*", "../outbox/*", "koa"] }],
    },
  },
  {
    // Browser code bundled by esbuild (scripts/build-assets.js): ES modules with the page's globals.
    files: ["miniapp/client/**/*.js"],
    languageOptions: {
      sourceType: "module",
      globals: Object.fromEntries(
        ["window", "document", "location", "history", "navigator", "localStorage", "fetch", "crypto", "console", "setTimeout", "clearTimeout", "Element", "TypeError"].map((g) => [g, "readonly"]),
      ),
    },
  },
  {
    files: ["**/*.js", "**/*.cjs"],
    languageOptions: { globals: { module: "writable", require: "readonly", __dirname: "readonly", process: "readonly" } },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
);
