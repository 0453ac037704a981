/** The reliability suite (test/reliability): fuzz, authorization matrix, races and faults, on MariaDB + Redis. */
const base = require("./jest.config.js");

module.exports = {
  ...base,
  testPathIgnorePatterns: ["/node_modules/"],
  testMatch: ["<rootDir>/test/reliability/**/*.test.ts"],
  testTimeout: 180000,
};
