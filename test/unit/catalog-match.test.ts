import { type Matchable, type MatchResult, matchOne, normalizeKey } from "../../src/domain/catalog-match";

const N95: Matchable = { id: 1, code: "SKU-1001", name: "N95口罩", barcode: "6901234567890", aliases: ["N95"] };
const SURGICAL: Matchable = { id: 2, code: "SKU-1002", name: "医用外科口罩", barcode: "6901234567891" };
const NITRILE: Matchable = { id: 3, code: "SKU-2002", name: "丁腈手套", barcode: null, aliases: ["nitrile gloves"] };
const TOOLBOX: Matchable = { id: 4, code: "SKU-3001", name: "工具箱" };
const ALCOHOL: Matchable = { id: 5, code: "ALC-500", name: "75%酒精 500ml" };
const LATEX: Matchable = { id: 6, code: "GLV-L", name: "Latex Gloves · Large" };
const PRODUCTS = [N95, SURGICAL, NITRILE, TOOLBOX, ALCOHOL, LATEX];

function ids(result: MatchResult<Matchable>): number[] {
  if (result.kind === "none") return [];
  return result.kind === "ambiguous" ? result.items.map((p) => p.id) : [result.item.id];
}

describe("normalizeKey", () => {
  it.each([
    ["ＳＫＵ－１００１", "sku1001"],
    ["N95 口罩", "n95口罩"],
    ["Latex Gloves · Large", "latexgloveslarge"],
    ["a_b-c/d", "abcd"],
    ["N95口罩 箱", "n95口罩"],
    ["SKU-1001 PCS", "sku1001"],
    ["N95口罩/盒", "n95口罩"],
    ["手套", "手套"],
    ["工具箱", "工具箱"],
    ["箱", "箱"],
    ["", ""],
  ])("keys %j as %j", (input, key) => {
    expect(normalizeKey(input)).toBe(key);
  });
});

describe("matchOne", () => {
  describe("exact code or barcode", () => {
    it.each(["SKU-1001", "sku-1001", "sku1001", " SKU 1001 ", "ＳＫＵ－１００１", "SKU-1001 pcs"])(
      "finds N95口罩 by its code typed as %j",
      (query) => {
        expect(matchOne(query, PRODUCTS)).toEqual({ kind: "exact", item: N95 });
      },
    );

    it("finds a product by its barcode, full-width digits included", () => {
      expect(matchOne("6901234567891", PRODUCTS)).toEqual({ kind: "exact", item: SURGICAL });
      expect(matchOne("６９０１２３４５６７８９０", PRODUCTS)).toEqual({ kind: "exact", item: N95 });
    });

    it("prefers a code over a name that happens to read the same", () => {
      const codeNamed = { id: 9, code: "N95口罩", name: "别的东西" };
      expect(matchOne("N95口罩", [N95, codeNamed])).toEqual({ kind: "exact", item: codeNamed });
    });

    it("returns the very candidate object it was given", () => {
      const result = matchOne("SKU-2002", PRODUCTS);
      expect(result.kind === "exact" && result.item).toBe(NITRILE);
    });
  });

  describe("exact name or alias", () => {
    it.each([
      ["丁腈手套", NITRILE],
      ["N95口罩", N95],
      ["n95 口罩", N95],
      ["Ｎ９５口罩", N95],
      ["N95口罩 箱", N95],
      ["丁腈手套 套", NITRILE],
      ["工具箱", TOOLBOX],
      ["nitrile gloves", NITRILE],
      ["N95", N95],
      ["latex gloves large", LATEX],
    ])("matches %j exactly", (query, item) => {
      expect(matchOne(query, PRODUCTS)).toEqual({ kind: "exact", item });
    });

    it("calls two products with the same name ambiguous rather than picking one", () => {
      const twin = { id: 10, code: "SKU-9999", name: "丁腈 手套" };
      expect(matchOne("丁腈手套", [NITRILE, twin])).toEqual({ kind: "ambiguous", items: [NITRILE, twin] });
    });
  });

  describe("part of a name", () => {
    it.each([
      ["外科", SURGICAL],
      ["酒精", ALCOHOL],
      ["手套", NITRILE],
      ["latex", LATEX],
      ["丁腈手套蓝色大号", NITRILE], // the query contains the whole name
    ])("finds the only product matching %j", (query, item) => {
      expect(matchOne(query, PRODUCTS)).toEqual({ kind: "unique", item });
    });

    it("lists every product containing 口罩, shortest name first", () => {
      expect(matchOne("口罩", PRODUCTS)).toEqual({ kind: "ambiguous", items: [N95, SURGICAL] });
    });

    it("puts names starting with the query before shorter names containing it", () => {
      const lanyard = { id: 11, code: "L-1", name: "口罩挂绳" };
      const medical = { id: 12, code: "M-1", name: "医用口罩" };
      expect(ids(matchOne("口罩", [N95, medical, lanyard]))).toEqual([11, 12, 1]);
    });

    it("keeps an ambiguous answer ambiguous even when only one may be shown", () => {
      expect(matchOne("口罩", PRODUCTS, { maxAmbiguous: 1 })).toEqual({ kind: "ambiguous", items: [N95] });
    });

    it("falls back to the default when maxAmbiguous is not a usable number", () => {
      expect(matchOne("口罩", PRODUCTS, { maxAmbiguous: Number.NaN })).toEqual({ kind: "ambiguous", items: [N95, SURGICAL] });
    });

    it("shows at most eight candidates by default", () => {
      const many = Array.from({ length: 20 }, (_, i) => ({ id: i, code: `C-${i}`, name: `口罩${i}号` }));
      const result = matchOne("口罩", many);
      expect(result.kind).toBe("ambiguous");
      expect(ids(result)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    });
  });

  describe("a typo in a code", () => {
    it("accepts one missing, extra or changed letter in a long code as a unique match", () => {
      expect(matchOne("SKU-10001", PRODUCTS)).toEqual({ kind: "unique", item: N95 });
      expect(matchOne("SJU-2002", PRODUCTS)).toEqual({ kind: "unique", item: NITRILE });
      expect(matchOne("SUK-2002", PRODUCTS)).toEqual({ kind: "unique", item: NITRILE });
    });

    it("does not treat a different number as a typo: SKU-1003 could be another product", () => {
      expect(matchOne("SKU-1003", PRODUCTS)).toEqual({ kind: "none" });
      expect(matchOne("SKU-1010", PRODUCTS)).toEqual({ kind: "none" });
    });

    it("calls a typo ambiguous when it is one edit from two codes", () => {
      const x = { id: 20, code: "ABC-1234X", name: "甲" };
      const y = { id: 21, code: "ABC-1234Y", name: "乙" };
      expect(matchOne("ABC-1234Z", [x, y])).toEqual({ kind: "ambiguous", items: [x, y] });
    });

    it("ignores typos in short codes", () => {
      expect(matchOne("GLV-X", PRODUCTS)).toEqual({ kind: "none" });
    });
  });

  describe("nothing matching", () => {
    it.each(["轮胎", "", "   ", "!!!", "SKU-4004"])("answers none for %j", (query) => {
      expect(matchOne(query, PRODUCTS)).toEqual({ kind: "none" });
    });

    it("answers none when there are no candidates", () => {
      expect(matchOne("口罩", [])).toEqual({ kind: "none" });
    });
  });

  it("notices when a candidate it has matched before was renamed or given an alias", () => {
    const item = { id: 30, code: "R-1", name: "旧名字", aliases: [] as string[] };
    expect(matchOne("旧名字", [item])).toEqual({ kind: "exact", item });
    item.name = "新名字";
    item.aliases.push("别名");
    expect(matchOne("旧名字", [item])).toEqual({ kind: "none" });
    expect(matchOne("新名字", [item])).toEqual({ kind: "exact", item });
    expect(matchOne("别名", [item])).toEqual({ kind: "exact", item });
  });

  it("matches against 5,000 candidates quickly", () => {
    const catalog = Array.from({ length: 5000 }, (_, i) => ({
      id: i,
      code: `SKU-${String(i).padStart(5, "0")}`,
      name: `测试商品${i}号 规格${i % 7}`,
      barcode: `690${String(i).padStart(10, "0")}`,
      aliases: [`item ${i}`],
    }));
    const started = Date.now();
    for (let i = 0; i < 20; i++) {
      expect(matchOne(`SKU-${String(i * 37).padStart(5, "0")}`, catalog)).toEqual({ kind: "exact", item: catalog[i * 37] });
    }
    expect(matchOne("测试商品4999号", catalog)).toEqual({ kind: "unique", item: catalog[4999] });
    expect(matchOne("规格3", catalog).kind).toBe("ambiguous");
    expect(matchOne("不存在的东西", catalog)).toEqual({ kind: "none" });
    // ~60 ms on a laptop (the first call folds every name); the bound only catches quadratic work.
    expect(Date.now() - started).toBeLessThan(1500);
  });
});
