import { isBase64 } from "../../src/channels/wecom/crypto";

/** The check decryptFor makes before decrypting: the same verdicts as the pattern it replaced. */
describe("isBase64", () => {
  const pattern = (s: string) => /^[A-Za-z0-9+/]+={0,2}$/.test(s) && s.length % 4 === 0;

  it.each(["QUJD", "QUI=", "QQ==", "ab+/", Buffer.from("企业微信 callback").toString("base64")])("accepts %s", (s) => {
    expect(isBase64(s)).toBe(true);
    expect(pattern(s)).toBe(true);
  });

  it.each(["", "QUJ", "QUJD=", "Q===", "QU=D", "QU I", "QUJ-", "QUJ_", "QUJD\n", "=QUJ", "QQ==QUJD", "ÄUJD", "ŁUJD", "\u0141\u0155JD", "QUJ\u0000"])("refuses %j", (s) => {
    expect(isBase64(s)).toBe(false);
    expect(pattern(s)).toBe(false);
  });

  it("agrees with the pattern on random strings over base64's alphabet and a few strangers", () => {
    // Ł and ŕ share their low byte with "A" and "U": a check on truncated code units would take them.
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ \nŁŕ企\u0000";
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let i = 0; i < 5000; i++) {
      const s = Array.from({ length: rand(13) }, () => alphabet[rand(alphabet.length)]).join("");
      expect([s, isBase64(s)]).toEqual([s, pattern(s)]);
    }
  });
});
