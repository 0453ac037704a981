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
    const secret = { SESSION_SECRET: "s".repeat(32) };
    expect(loadConfig({ NODE_ENV: "production", ...secret }).simulator.enabled).toBe(false);
    expect(loadConfig({ NODE_ENV: "production", SIMULATOR_ENABLED: "true", ...secret }).simulator.enabled).toBe(true);
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

describe("loadConfig: WeCom", () => {
  const core = {
    WECOM_CORP_ID: "ww1436e0e65a779aee",
    WECOM_AGENT_ID: "1000002",
    WECOM_SECRET: "s3cret",
    WECOM_TOKEN: "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo",
    WECOM_AES_KEY: "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt",
  };

  it("is off with nothing set, and with every setting left empty as in .env.example", () => {
    expect(loadConfig({}).wecom).toBeNull();
    const empty = Object.fromEntries([...Object.keys(core), "WECOM_API_BASE", "WECOM_EXTERNAL_SECRET", "WECOM_CONTACT_SECRET", "WECOM_RATE_PER_SEC", "WECOM_CALLBACK_WINDOW_SEC", "WECOM_CALLBACK_BUDGET_MS"].map((k) => [k, ""]));
    expect(loadConfig(empty).wecom).toBeNull();
  });

  it("is on with the core five, with defaults from the platform notes", () => {
    const c = loadConfig(core);
    expect(c.wecom).toEqual({
      corpId: "ww1436e0e65a779aee",
      agentId: 1000002,
      secret: "s3cret",
      token: "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo",
      aesKey: "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt",
      apiBase: "https://qyapi.weixin.qq.com",
      contactSecret: null,
      ratePerSec: 40,
      callbackWindowSec: 300,
      callbackBudgetMs: 3000,
      roleMap: [],
      noticePollCron: "*/10 * * * *",
    });
    expect(Object.isFrozen(c.wecom)).toBe(true);
    const custom = loadConfig({ ...core, WECOM_API_BASE: "http://proxy.internal:8080/", WECOM_CONTACT_SECRET: "c", WECOM_RATE_PER_SEC: "5", WECOM_CALLBACK_WINDOW_SEC: "60", WECOM_CALLBACK_BUDGET_MS: "1500" });
    expect(custom.wecom).toMatchObject({ apiBase: "http://proxy.internal:8080", contactSecret: "c", ratePerSec: 5, callbackWindowSec: 60, callbackBudgetMs: 1500 });
  });

  it("takes the 客户联系 secret as WECOM_EXTERNAL_SECRET or WECOM_CONTACT_SECRET, and the same value under both", () => {
    const secret = "Pq8ZRuVbYy3-CbR5_kN2mX7aT9wQeLs4dHf6jGu1oIc";
    expect(loadConfig({ ...core, WECOM_EXTERNAL_SECRET: secret }).wecom?.contactSecret).toBe(secret);
    expect(loadConfig({ ...core, WECOM_CONTACT_SECRET: secret }).wecom?.contactSecret).toBe(secret);
    expect(loadConfig({ ...core, WECOM_EXTERNAL_SECRET: secret, WECOM_CONTACT_SECRET: secret }).wecom?.contactSecret).toBe(secret);
    expect(loadConfig({ ...core, WECOM_EXTERNAL_SECRET: "", WECOM_CONTACT_SECRET: "" }).wecom?.contactSecret).toBeNull();
  });

  it.each([
    ["only the corp id", { WECOM_CORP_ID: core.WECOM_CORP_ID }, "WECOM_AGENT_ID, WECOM_SECRET, WECOM_TOKEN, WECOM_AES_KEY: required when WECOM_CORP_ID is set"],
    ["an empty token", { ...core, WECOM_TOKEN: "" }, "WECOM_TOKEN: required when WECOM_CORP_ID is set"],
    ["no corp id", { WECOM_SECRET: "s", WECOM_AES_KEY: core.WECOM_AES_KEY }, "WECOM_CORP_ID, WECOM_AGENT_ID, WECOM_TOKEN: required when WECOM_SECRET is set"],
    ["empty corp id and secret", { ...core, WECOM_CORP_ID: "", WECOM_SECRET: "" }, "WECOM_CORP_ID, WECOM_SECRET: required when WECOM_AGENT_ID is set"],
    ["a contact secret alone", { WECOM_CONTACT_SECRET: "c" }, "WECOM_CORP_ID, WECOM_AGENT_ID, WECOM_SECRET, WECOM_TOKEN, WECOM_AES_KEY: required when WECOM_CONTACT_SECRET is set"],
    ["an external secret alone", { WECOM_EXTERNAL_SECRET: "e" }, "WECOM_CORP_ID, WECOM_AGENT_ID, WECOM_SECRET, WECOM_TOKEN, WECOM_AES_KEY: required when WECOM_EXTERNAL_SECRET is set"],
  ])("stops with one line naming every missing setting for %s", (_what, env, message) => {
    expect(() => loadConfig(env)).toThrow(new ConfigError(message));
  });

  it.each([
    ["an app secret in quotes", { ...core, WECOM_SECRET: '"s3cret"' }, /^WECOM_SECRET: must be the secret as the admin console shows it/],
    ["an external secret with a space", { ...core, WECOM_EXTERNAL_SECRET: "abc def" }, /^WECOM_EXTERNAL_SECRET: must be the secret/],
    ["a contact secret with a line end", { ...core, WECOM_CONTACT_SECRET: "abcdef\r" }, /^WECOM_CONTACT_SECRET: must be the secret/],
    ["an external secret of 129 characters", { ...core, WECOM_EXTERNAL_SECRET: "x".repeat(129) }, /^WECOM_EXTERNAL_SECRET: /],
    ["two different 客户联系 secrets", { ...core, WECOM_EXTERNAL_SECRET: "secretA", WECOM_CONTACT_SECRET: "secretB" }, /^WECOM_EXTERNAL_SECRET: differs from WECOM_CONTACT_SECRET/],
  ])("refuses %s without repeating the value", (_what, env, expected) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(expected);
    const message = (() => {
      try {
        loadConfig(env);
      } catch (err) {
        return (err as Error).message;
      }
    })();
    const { WECOM_SECRET, WECOM_EXTERNAL_SECRET, WECOM_CONTACT_SECRET } = env as Record<string, string | undefined>;
    for (const secret of [WECOM_SECRET, WECOM_EXTERNAL_SECRET, WECOM_CONTACT_SECRET]) if (secret) expect(message).not.toContain(secret.trim());
  });

  it.each([
    ["a 42-character AES key", { ...core, WECOM_AES_KEY: core.WECOM_AES_KEY.slice(1) }, /^WECOM_AES_KEY: must be exactly 43 letters or digits/],
    ["an AES key with +", { ...core, WECOM_AES_KEY: `${core.WECOM_AES_KEY.slice(1)}+` }, /^WECOM_AES_KEY: /],
    ["a 33-character token", { ...core, WECOM_TOKEN: "t".repeat(33) }, /^WECOM_TOKEN: /],
    ["a non-numeric agent id", { ...core, WECOM_AGENT_ID: "app" }, /^WECOM_AGENT_ID: /],
    ["an API base without scheme", { ...core, WECOM_API_BASE: "qyapi.weixin.qq.com" }, /^WECOM_API_BASE: must be an absolute URL/],
    ["a zero rate", { ...core, WECOM_RATE_PER_SEC: "0" }, /^WECOM_RATE_PER_SEC: /],
    ["a negative window", { ...core, WECOM_CALLBACK_WINDOW_SEC: "-5" }, /^WECOM_CALLBACK_WINDOW_SEC: /],
    ["an answer budget past WeCom's 5 s", { ...core, WECOM_CALLBACK_BUDGET_MS: "5000" }, /^WECOM_CALLBACK_BUDGET_MS: /],
    ["an answer budget in seconds", { ...core, WECOM_CALLBACK_BUDGET_MS: "3" }, /^WECOM_CALLBACK_BUDGET_MS: /],
  ])("stops naming what is wrong for %s", (_what, env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
