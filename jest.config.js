/** Jest runs TypeScript through swc (fast, no type-check: `npm run typecheck` does that). */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  // The reliability suite (fuzz, faults, a killed server) runs on its own: `npm run test:reliability`.
  testPathIgnorePatterns: ["/node_modules/", "<rootDir>/test/reliability/"],
  transform: { "^.+\\.ts$": ["@swc/jest", { jsc: { target: "es2022", parser: { syntax: "typescript" } } }] },
  setupFiles: ["<rootDir>/test/helpers/setup-env.ts"],
  globalSetup: "<rootDir>/test/helpers/global-setup.ts",
  testTimeout: 30000,
};
