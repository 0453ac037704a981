// The order form: customer and product search, live stock, prices and approval route from the server,
// the whole draft kept in localStorage on every change, and saving that queues while offline.
import { ApiError, getJson, postJson } from "./api.js";
import { enqueue, flushQueue } from "./offline-queue.js";
import { scanCode, scannerAvailable } from "./scanner.js";

const PRICE = /^\d+(\.\d{1,2})?$/;
const newKey = () => (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(36).slice(2)).replace(/[^A-Za-z0-9_-]/g, "");
const money = (fen) => "¥" + Math.floor(fen / 100).toLocaleString("en-US") + "." + String(fen % 100).padStart(2, "0");
const fill = (text, params) => text.replace(/\{(\w+)\}/g, (m, k) => (k in params ? params[k] : m));

export function orderForm() {
  const init = JSON.parse(document.getElementById("order-init").textContent);
  const s = init.state;
  const draftKey = s.orderId ? "co.draft." + s.orderId : "co.draft.new";
  let requoteTimer = null;
  return {
    customer: s.customer,
    lines: s.lines,
    note: s.note,
    key: newKey(),
    customerQ: "",
    customerHits: [],
    productQ: "",
    productHits: [],
    searched: false,
    quote: null,
    notice: "",
    error: "",
    busy: false,
    offline: !navigator.onLine,
    canScan: scannerAvailable(init.platform),
    init() {
      const kept = this.readDraft();
      if (kept && (!s.orderId || kept.version === s.version)) {
        Object.assign(this, { customer: kept.customer, lines: kept.lines, note: kept.note, key: kept.key || this.key });
        this.notice = kept.error ? fill(init.messages["form.failed"], { message: kept.error }) : init.messages["form.restored"];
      }
      window.addEventListener("online", () => { this.offline = false; this.requote(); });
      window.addEventListener("offline", () => (this.offline = true));
      this.requote();
    },
    msg(key, params) { return fill(init.messages[key] || key, params || {}); },
    money,
    // What the template shows, as methods: the CSP build of Alpine (no eval) parses only simple expressions.
    customerLabel() { return this.customer ? this.customer.name + "（" + this.customer.code + "）" : ""; },
    clearCustomer() { this.customer = null; this.changed(); },
    productNote(p) { return p.sku + " · " + money(p.listPriceFen) + " · " + this.msg("form.available", { n: p.available }); },
    nothingFound() { return !!this.productQ && this.searched && !this.productHits.length; },
    lineClass(line) { const q = this.quoteOf(line); return { "line--warn": !!(q.short || q.belowFloor) }; },
    totalText() { return this.quote ? money(this.quote.totalFen) : ""; },
    hasRoute() { return !!(this.quote && this.quote.route); },
    approverNames(step) { return step.approvers.join("、"); },
    bullet(text) { return "· " + text; },
    readDraft() {
      try { return JSON.parse(localStorage.getItem(draftKey) || "null"); } catch { return null; }
    },
    draft() { return { customer: this.customer, lines: this.lines, note: this.note, key: this.key, version: s.version }; },
    // Kept on the phone at every keystroke (a reload or a dead battery loses nothing); priced a moment later.
    changed() {
      localStorage.setItem(draftKey, JSON.stringify(this.draft()));
      clearTimeout(requoteTimer);
      requoteTimer = setTimeout(() => this.requote(), 300);
    },
    async findCustomers() {
      const q = this.customerQ.trim();
      if (!q) return (this.customerHits = []);
      this.customerHits = (await getJson("/m/api/customers?q=" + encodeURIComponent(q)).catch(() => ({ items: [] }))).items;
    },
    chooseCustomer(c) { this.customer = { code: c.code, name: c.name }; this.customerHits = []; this.customerQ = ""; this.changed(); },
    async findProducts() {
      const q = this.productQ.trim();
      this.searched = false;
      if (!q) return (this.productHits = []);
      this.productHits = (await getJson("/m/api/products?q=" + encodeURIComponent(q)).catch(() => ({ items: [] }))).items;
      this.searched = true;
    },
    addProduct(p) {
      const line = this.lines.find((l) => l.sku === p.sku);
      if (line) line.qty += 1;
      else this.lines.push({ sku: p.sku, name: p.name, unit: p.unit, qty: 1, price: (p.listPriceFen / 100).toFixed(2), listPriceFen: p.listPriceFen });
      this.productHits = [];
      this.productQ = "";
      this.changed();
    },
    async addByCode(code) {
      const text = String(code || "").trim();
      if (!text) return;
      const hits = (await getJson("/m/api/products?q=" + encodeURIComponent(text)).catch(() => ({ items: [] }))).items;
      const exact = hits.find((p) => p.barcode === text || p.sku.toLowerCase() === text.toLowerCase()) || (hits.length === 1 ? hits[0] : null);
      if (exact) return this.addProduct(exact);
      this.error = this.msg("form.notFound", { code: text });
    },
    async scan() {
      const code = await scanCode(init.platform);
      if (code) this.addByCode(code);
    },
    remove(i) { this.lines.splice(i, 1); this.changed(); },
    payloadLines() {
      return this.lines.map((l) => ({ sku: l.sku, qty: Number(l.qty) || 0, unitPriceFen: PRICE.test(String(l.price)) ? Math.round(Number(l.price) * 100) : null }));
    },
    async requote() {
      if (!navigator.onLine || this.lines.some((l) => !(Number(l.qty) >= 1))) return;
      try {
        this.quote = await postJson("/m/api/quote", { customerCode: this.customer ? this.customer.code : undefined, lines: this.payloadLines(), orderId: s.orderId || undefined });
        this.error = "";
      } catch (err) {
        if (err instanceof ApiError) this.error = err.message;
      }
    },
    quoteOf(line) { return (this.quote && this.quote.lines.find((q) => q.sku === line.sku)) || {}; },
    lineNote(line) {
      const q = this.quoteOf(line);
      if (q.available === undefined) return this.msg("form.listPrice", { price: money(line.listPriceFen) });
      const parts = [q.short ? this.msg("form.short", { n: q.available }) : this.msg("form.available", { n: q.available }), this.msg("form.listPrice", { price: money(q.listPriceFen) })];
      if (q.belowFloor) parts.push(this.msg("form.belowFloor", { floor: money(q.floorPriceFen) }));
      else if (q.discountBp > 0) parts.push(this.msg("form.discount", { pct: (q.discountBp / 100).toFixed(1) }));
      return parts.join(" · ") + " · " + money(q.lineTotalFen);
    },
    async save(submit) {
      this.error = "";
      if (!this.customer) return (this.error = this.msg("form.noCustomer"));
      if (!this.lines.length) return (this.error = this.msg("form.noLines"));
      const common = { customerCode: this.customer.code, lines: this.payloadLines(), note: this.note, submit };
      const url = s.orderId ? "/m/api/orders/" + s.orderId : "/m/api/orders";
      const body = s.orderId ? Object.assign({ expectedVersion: s.version }, common) : Object.assign({ idempotencyKey: this.key }, common);
      const item = { key: this.key, url, body, draftKey, draft: this.draft() };
      this.busy = true;
      this.notice = this.msg("form.sending");
      try {
        if (!navigator.onLine) throw new TypeError("offline");
        const saved = await postJson(url, body);
        localStorage.removeItem(draftKey);
        location.assign(saved.url + "?done=" + (submit ? "submitted" : "saved"));
      } catch (err) {
        this.busy = false;
        this.notice = "";
        if (err instanceof ApiError) return (this.error = this.msg("form.failed", { message: err.message }));
        enqueue(item);
        localStorage.removeItem(draftKey);
        this.notice = this.msg("form.queued");
        this.lines = [];
        this.customer = null;
        this.key = newKey();
        window.addEventListener("online", () => flushQueue(), { once: true });
      }
    },
  };
}
