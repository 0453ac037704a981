// The pick screen: each scan (or typed code) confirms one unit of the line with that barcode; a code
// that is on no line is a wrong item and says so. The quantities are ordinary form fields.
import { scanCode, scannerAvailable } from "./scanner.js";

export function picker() {
  const data = JSON.parse(document.getElementById("scan-data").textContent);
  const picked = {};
  for (const l of data.lines) picked[l.field] = l.picked;
  return {
    code: "",
    note: "",
    warn: false,
    picked,
    canScan: scannerAvailable(data.platform),
    done(field) {
      const line = data.lines.find((l) => l.field === field);
      return !!line && this.picked[field] >= line.left;
    },
    // Class bindings as methods: the CSP build of Alpine evaluates only simple expressions.
    rowClass(field) {
      return { "is-done": this.done(field) };
    },
    noteClass() {
      return { "flash--warn": this.warn };
    },
    say(text, warn) {
      this.note = text;
      this.warn = warn;
    },
    confirmCode(value) {
      const code = String(value == null ? this.code : value).trim();
      this.code = "";
      if (!code) return;
      const lower = code.toLowerCase();
      const line = data.lines.find((l) => (l.barcode && l.barcode.toLowerCase() === lower) || l.sku.toLowerCase() === lower);
      if (!line) return this.say(data.messages.wrong.replace("{code}", code), true);
      if (this.picked[line.field] >= line.left) return this.say(data.messages.tooMany.replace("{name}", line.name), true);
      this.picked[line.field] = (this.picked[line.field] || 0) + 1;
      this.say(data.messages.ok.replace("{name}", line.name) + " " + this.picked[line.field] + "/" + line.left, false);
    },
    async scan() {
      const code = await scanCode(data.platform);
      if (code) this.confirmCode(code);
    },
  };
}
