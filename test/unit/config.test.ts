import { ConfigError, loadConfig } from "../../src/config";

describe("loadConfig", () => {
  it("runs the embedded default with nothing set", () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 3000,
      database: { url: "sqlite:data/chatorder.sqlite", dialect: "sqlite" },
      redisUrl: null,
      simulator: { enabled: true },
      publicUrl: "http://localhost:3000",
    });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.database)).toBe(true);
  });

  it("recognises MySQL and MariaDB URLs", () => {
    expect(loadConfig({ DATABASE_URL: "mysql://u:p@db:3306/x" }).database.dialect).toBe("mysql");
    expect(loadConfig({ DATABASE_URL: "mariadb://u:p@db:3306/x" }).database.dialect).toBe("mysql");
  });

  it("keeps the simulator off in production unless asked for", () => {
    expect(loadConfig({ NODE_ENV: "production" }).simulator.enabled).toBe(false);
    expect(loadConfig({ NODE_ENV: "production", SIMULATOR_ENABLED: "true" }).simulator.enabled).toBe(true);
  });

  it.each([
    [{ PORT: "abc" }, /^PORT: /],
    [{ PORT: "70000" }, /^PORT: /],
    [{ DATABASE_URL: "postgres://x" }, /^DATABASE_URL: must start with sqlite:/],
    [{ REDIS_URL: "localhost:6379" }, /^REDIS_URL: /],
    [{ LOG_LEVEL: "loud" }, /^LOG_LEVEL: /],
    [{ SEED_DEMO_DATA: "maybe" }, /^SEED_DEMO_DATA: must be true or false/],
    [{ PUBLIC_URL: "not a url" }, /^PUBLIC_URL: /],
  ])("stops with one line naming the variable for %p", (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
