import { type BotIntent, type ParsedLine, normalizeText, parseIntent } from "../../src/domain/order-text";

function line(product: string, qty: number, unit: string | null, unitPriceFen: number | null, raw: string): ParsedLine {
  return { product, qty, unit, unitPriceFen, raw };
}

function order(customer: string | null, lines: ParsedLine[], problems: string[] = []): BotIntent {
  return { kind: "order_text", customer, lines, problems };
}

const NO_ITEMS = "没有识别到商品，请按“商品 数量”填写，例如：N95口罩 200箱";

describe("normalizeText", () => {
  it("turns full-width letters, digits and punctuation into half-width ones", () => {
    expect(normalizeText("ＳＫＵ－１００１，２０箱；手套、５盒。下单：华东")).toBe("SKU-1001,20箱;手套,5盒.下单:华东");
  });

  it("collapses runs of spaces, keeps one line break per line and trims", () => {
    expect(normalizeText("  a \t b\u3000c \r\n\r\n  d  ")).toBe("a b c\nd");
  });

  it("drops zero-width characters pasted from chat clients", () => {
    expect(normalizeText("下\u200b单")).toBe("下单");
  });
});

describe("parseIntent", () => {
  const cases: [string, string, BotIntent][] = [
    // help
    ["help in Chinese", "帮助", { kind: "help" }],
    ["help in English, any case and spacing", "  HELP ", { kind: "help" }],
    ["a question mark", "?", { kind: "help" }],
    ["a full-width question mark", "？", { kind: "help" }],
    // starting an order
    ["下单 alone", "下单", { kind: "new_order" }],
    ["new order", "new order", { kind: "new_order" }],
    ["order alone", "order", { kind: "new_order" }],
    ["下单 with a trailing full-width colon", "下单：", { kind: "new_order" }],
    ["New Order with an exclamation mark", "New Order!", { kind: "new_order" }],
    // my orders
    ["我的订单", "我的订单", { kind: "my_orders" }],
    ["my orders", "My Orders", { kind: "my_orders" }],
    ["我的订单 with a question mark", "我的订单？", { kind: "my_orders" }],
    // order status
    ["查 + order number", "查 SO-20261123-0001", { kind: "order_status", orderNo: "SO-20261123-0001" }],
    ["查询订单 + lower-case number", "查询订单 so-20261123-0001", { kind: "order_status", orderNo: "SO-20261123-0001" }],
    ["status + order number", "status SO-20261123-0001", { kind: "order_status", orderNo: "SO-20261123-0001" }],
    ["a bare order number", "SO-20261123-0001", { kind: "order_status", orderNo: "SO-20261123-0001" }],
    ["a full-width order number", "ＳＯ－２０２６１１２３－０００１", { kind: "order_status", orderNo: "SO-20261123-0001" }],
    ["an order number followed by 到哪了", "订单 SO-20261123-0012 到哪了", { kind: "order_status", orderNo: "SO-20261123-0012" }],
    ["order status with a hyphen missing", "order status so20261123-10001", { kind: "order_status", orderNo: "SO-20261123-10001" }],
    // stock
    ["库存 + name", "库存 N95", { kind: "stock", query: "N95" }],
    ["stock + SKU", "stock SKU-1001", { kind: "stock", query: "SKU-1001" }],
    ["查库存 + Chinese name", "查库存 丁腈手套", { kind: "stock", query: "丁腈手套" }],
    ["库存 with a full-width colon", "库存：N95口罩", { kind: "stock", query: "N95口罩" }],
    ["a stock question with the name first", "N95还有库存吗", { kind: "stock", query: "N95" }],
    ["inventory of …", "inventory of gloves", { kind: "stock", query: "gloves" }],
    // orders written out
    [
      "Chinese order with a price and a comma-separated x item",
      "下单 华东医疗 N95口罩 200箱 单价30，丁腈手套x50",
      order("华东医疗", [
        line("N95口罩", 200, "箱", 3000, "N95口罩 200箱 单价30"),
        line("丁腈手套", 50, null, null, "丁腈手套x50"),
      ]),
    ],
    [
      "English order, customer ended by a colon, quantity first",
      "order ACME: 20 x SKU-1001, 5 x SKU-2002 @ 12.5",
      order("ACME", [line("SKU-1001", 20, null, null, "20 x SKU-1001"), line("SKU-2002", 5, null, 1250, "5 x SKU-2002 @ 12.5")]),
    ],
    [
      "客户: label, * and × with no separator between items",
      "下单 客户:华东医疗 SKU-1001*10 SKU-2002 × 3 @15",
      order("华东医疗", [line("SKU-1001", 10, null, null, "SKU-1001*10"), line("SKU-2002", 3, null, 1500, "SKU-2002 × 3 @15")]),
    ],
    [
      "keyword glued to the customer, quantity glued to the name, 元 after the price",
      "下单华东医疗 N95口罩200箱，手套 50 盒 单价 12.5 元",
      order("华东医疗", [line("N95口罩", 200, "箱", null, "N95口罩200箱"), line("手套", 50, "盒", 1250, "手套 50 盒 单价 12.5 元")]),
    ],
    [
      "English units before the name, at-price, semicolon",
      "order acme 10 pcs SKU-1001 at 9.9; 3 boxes gloves",
      order("acme", [line("SKU-1001", 10, "pcs", 990, "10 pcs SKU-1001 at 9.9"), line("gloves", 3, "boxes", null, "3 boxes gloves")]),
    ],
    [
      "full-width code and quantity",
      "下单 华东医疗 ＳＫＵ－１００１ ２０箱",
      order("华东医疗", [line("SKU-1001", 20, "箱", null, "SKU-1001 20箱")]),
    ],
    [
      "no customer: the first word is already a product",
      "下单 N95口罩 200箱",
      order(null, [line("N95口罩", 200, "箱", null, "N95口罩 200箱")]),
    ],
    [
      "one item per line",
      "下单\n华东医疗\nN95口罩 200箱\n丁腈手套 50盒",
      order("华东医疗", [line("N95口罩", 200, "箱", null, "N95口罩 200箱"), line("丁腈手套", 50, "盒", null, "丁腈手套 50盒")]),
    ],
    [
      "每箱 price, 、 separator and a ¥ price",
      "下单 华东医疗 N95口罩 200箱 每箱30元、手套 50盒 ￥12.5",
      order("华东医疗", [
        line("N95口罩", 200, "箱", 3000, "N95口罩 200箱 每箱30元"),
        line("手套", 50, "盒", 1250, "手套 50盒 ¥12.5"),
      ]),
    ],
    [
      "a price after a comma belongs to the item before it",
      "下单 华东医疗 口罩 200箱, 单价30",
      order("华东医疗", [line("口罩", 200, "箱", 3000, "口罩 200箱, 单价30")]),
    ],
    [
      "two quantity-first items without a separator",
      "order acme 10 pcs SKU-1001 SKU-2002 x 5",
      order("acme", [line("SKU-1001", 10, "pcs", null, "10 pcs SKU-1001"), line("SKU-2002", 5, null, null, "SKU-2002 x 5")]),
    ],
    [
      "multi-word customer before a colon, 'of', ¥ after @",
      "order ACME Corp: 3 boxes of gloves @ ¥8",
      order("ACME Corp", [line("gloves", 3, "boxes", 800, "3 boxes of gloves @ ¥8")]),
    ],
    [
      "specs in names (5kg, 3层, M3×10) stay part of the name",
      "下单 华东医疗 大米5kg 10袋 3层口罩 100盒 M3×10螺丝 200个",
      order("华东医疗", [
        line("大米5kg", 10, "袋", null, "大米5kg 10袋"),
        line("3层口罩", 100, "盒", null, "3层口罩 100盒"),
        line("M3×10螺丝", 200, "个", null, "M3×10螺丝 200个"),
      ]),
    ],
    [
      "irregular spacing",
      "下单  华东医疗   N95口罩    200 箱",
      order("华东医疗", [line("N95口罩", 200, "箱", null, "N95口罩 200 箱")]),
    ],
    [
      "Chinese full stops between items",
      "下单 华东医疗 口罩200箱。手套50盒。",
      order("华东医疗", [line("口罩", 200, "箱", null, "口罩200箱"), line("手套", 50, "盒", null, "手套50盒")]),
    ],
    [
      "帮我下单 with 数量 and 单价: labels glued to the name",
      "帮我下单 华东医疗 手套数量50 单价:12",
      order("华东医疗", [line("手套", 50, null, 1200, "手套数量50 单价:12")]),
    ],
    [
      "customer ended by a comma",
      "order ACME Corp, 20 x SKU-1001",
      order("ACME Corp", [line("SKU-1001", 20, null, null, "20 x SKU-1001")]),
    ],
    [
      "“name: quantity” items with no customer",
      "下单 N95口罩：200箱，手套：50盒",
      order(null, [line("N95口罩", 200, "箱", null, "N95口罩:200箱"), line("手套", 50, "盒", null, "手套:50盒")]),
    ],
    [
      "a customer ended by a full stop",
      "下单 华东医疗。N95口罩 200箱",
      order("华东医疗", [line("N95口罩", 200, "箱", null, "N95口罩 200箱")]),
    ],
    [
      "ideographic space, full-width digits and 元/箱",
      "下单 华东医疗 口罩\u3000２００箱 单价 ３０元/箱",
      order("华东医疗", [line("口罩", 200, "箱", 3000, "口罩 200箱 单价 30元/箱")]),
    ],
    [
      "upper-case English unit",
      "Order ACME: 2 Boxes SKU-1001 @ 5",
      order("ACME", [line("SKU-1001", 2, "boxes", 500, "2 Boxes SKU-1001 @ 5")]),
    ],
    // orders with problems: reported, never guessed
    ["a missing quantity", "下单 华东医疗 丁腈手套", order("华东医疗", [], ["“丁腈手套”缺少数量"])],
    ["a zero quantity", "下单 华东医疗 丁腈手套 0盒", order("华东医疗", [], ["“丁腈手套”的数量“0”无效，应为正整数"])],
    ["a fractional quantity", "下单 华东医疗 丁腈手套 2.5盒", order("华东医疗", [], ["“丁腈手套”的数量“2.5”无效，应为正整数"])],
    ["a negative quantity", "下单 华东医疗 手套 -5", order("华东医疗", [], ["“手套”的数量“-5”无效，应为正整数"])],
    ["a price that is not a number", "下单 华东医疗 丁腈手套 5盒 单价abc", order("华东医疗", [], ["“丁腈手套”的单价“abc”无法识别"])],
    ["a price with three decimals", "下单 华东医疗 丁腈手套 5盒 单价3.333", order("华东医疗", [], ["“丁腈手套”的单价“3.333”无法识别"])],
    ["two prices for one item", "下单 华东医疗 口罩 200箱 单价30 单价40", order("华东医疗", [], ["“口罩”写了多个单价"])],
    ["a quantity with no product", "下单 华东医疗 口罩 200箱 30块", order("华东医疗", [line("口罩", 200, "箱", null, "口罩 200箱")], ["“30块”缺少商品名称"])],
    ["a customer and nothing else", "下单 华东医疗", order("华东医疗", [], [NO_ITEMS])],
    [
      "good lines are kept next to a bad one",
      "下单 华东医疗 N95口罩 200箱, 丁腈手套, 酒精 20瓶",
      order("华东医疗", [line("N95口罩", 200, "箱", null, "N95口罩 200箱"), line("酒精", 20, "瓶", null, "酒精 20瓶")], ["“丁腈手套”缺少数量"]),
    ],
    // not understood
    ["small talk", "你好", { kind: "unknown", text: "你好" }],
    ["an empty message", "   ", { kind: "unknown", text: "" }],
    ["查 without an order number", "查 N95", { kind: "unknown", text: "查 N95" }],
    ["库存 without a product", "库存", { kind: "unknown", text: "库存" }],
    // language
    ["English alone", "English", { kind: "language", locale: "en" }],
    ["切换英文", "切换英文", { kind: "language", locale: "en" }],
    ["switch to English, with a full stop", "Switch to English.", { kind: "language", locale: "en" }],
    ["中文", "中文", { kind: "language", locale: "zh-CN" }],
    ["切换到中文 with a full-width exclamation mark", "切换到中文！", { kind: "language", locale: "zh-CN" }],
    ["language: zh with a full-width colon", "language：zh", { kind: "language", locale: "zh-CN" }],
    ["English inside an order stays an order", "下单 English School: N95 x2", { kind: "order_text", customer: "English School", lines: [{ product: "N95", qty: 2, unit: null, unitPriceFen: null, raw: "N95 x2" }], problems: [] }],
    ["a stock question about 中文 books", "中文图书库存", { kind: "stock", query: "中文图书" }],
    ["a word that only starts like a keyword", "orders", { kind: "unknown", text: "orders" }],
    ["two order numbers at once", "查 SO-20261123-0001 SO-20261123-0002", { kind: "unknown", text: "查 SO-20261123-0001 SO-20261123-0002" }],
  ];

  it("covers at least forty distinct phrasings", () => {
    expect(new Set(cases.map(([, text]) => text)).size).toBeGreaterThanOrEqual(40);
  });

  it.each(cases)("understands %s", (_name, text, expected) => {
    expect(parseIntent(text)).toEqual(expected);
  });

  it("never throws, and every line it returns has a positive integer quantity", () => {
    const odd = [
      "@@@",
      "x*×",
      "单价",
      "下单 ::::",
      "下单 ,,,;;;...",
      "下单 @ @ x x * 单价 每箱",
      "下单 客户:",
      "下单 华东医疗 N95口罩 99999999999999999999箱",
      "下单 🙂 3 🙂",
      "\u0000\u0001",
      "下单 " + "口罩 1箱 ".repeat(2000),
      "下单 " + "a ".repeat(100000), // one item of 100,000 words: no spread into Math.min
      undefined as unknown as string,
    ];
    for (const text of odd) {
      const intent = parseIntent(text);
      expect(intent.kind).toEqual(expect.any(String));
      if (intent.kind !== "order_text") continue;
      for (const l of intent.lines) expect(Number.isSafeInteger(l.qty) && l.qty > 0).toBe(true);
    }
  });

  it("reads a long pasted order in one pass", () => {
    const intent = parseIntent("下单 华东医疗\n" + Array.from({ length: 500 }, (_, i) => `商品${i}号 ${i + 1}箱`).join("\n"));
    expect(intent.kind).toBe("order_text");
    if (intent.kind !== "order_text") return;
    expect(intent.problems).toEqual([]);
    expect(intent.lines).toHaveLength(500);
    expect(intent.lines[499]).toEqual(line("商品499号", 500, "箱", null, "商品499号 500箱"));
  });
});
