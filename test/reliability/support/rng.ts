import crypto from "node:crypto";

/**
 * A seeded generator (mulberry32): the same seed gives the same inputs in the same order, so a failure
 * printed with its seed and case number can be replayed with RELIABILITY_SEED=<seed>.
 */
export class Rng {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  static fromEnv(): Rng {
    const given = process.env.RELIABILITY_SEED;
    return new Rng(given ? Number(given) >>> 0 : crypto.randomInt(2 ** 31));
  }

  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  /** Text that is hard to handle: control characters, lone surrogates, RTL marks, emoji, CJK, quotes. */
  junk(maxLen = 40): string {
    const pieces = ["\u0000", "\u202e", "\ud800", "\udfff", "😀", "订单", "'", '"', "<", ">", "&", "\\", "%", "%00", "\n", "\r\n", "\t", "]]>", "<![CDATA[", "${x}", "{{x}}", " ", "\u00a0", "\ufeff", "Ω", "é", "ß", "🀄️", "a", "Z", "9", "-", "_", "/", "..", "NaN", "null"];
    const len = this.int(0, maxLen);
    let out = "";
    for (let i = 0; i < len; i++) out += this.pick(pieces);
    return out;
  }

  /** A value of some JSON type, often the wrong one for wherever it goes. */
  value(depth = 0): unknown {
    const kinds = depth > 2 ? 8 : 10;
    switch (this.int(0, kinds - 1)) {
      case 0:
        return null;
      case 1:
        return this.chance(0.5);
      case 2:
        return this.pick([0, -1, 1.5, -0.0001, 2 ** 53 + 1, -(2 ** 63), 1e308, 9_999_999_999_999, Number.MAX_SAFE_INTEGER, 0.1 + 0.2]);
      case 3:
        return this.junk();
      case 4:
        return String(this.pick([0, -1, 1e21, 1.5, "1e3", "0x10", " 7 ", ""]));
      case 5:
        return "x".repeat(this.int(65, 5000));
      case 6:
        return this.int(-1000, 1_000_000_000);
      case 7:
        return this.pick(["2026-13-45", "2026-02-30T25:61:00Z", "yesterday", "9999-12-31T23:59:59Z", "0000-01-01T00:00:00Z", ""]);
      case 8:
        return Array.from({ length: this.int(0, 3) }, () => this.value(depth + 1));
      default:
        return Object.fromEntries(Array.from({ length: this.int(0, 3) }, () => [this.pick(["sku", "qty", "__proto__", "constructor", "lines", this.junk(8)]), this.value(depth + 1)]));
    }
  }
}

/** `{"a":{"a":…}}` nested `depth` times. */
export function deeplyNested(depth: number, open = '{"a":', close = "}"): string {
  return `${open.repeat(depth)}1${close.repeat(depth)}`;
}
