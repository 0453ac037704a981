// The mini-app's one script: Alpine and our components. Pages without x-data get only the small
// helpers below (back, print, the offline queue). The CSP build of Alpine evaluates x-* attributes
// with its own parser instead of Function, so the pages need no 'unsafe-eval'; it understands only
// simple expressions, which is why the components expose methods for anything more.
import Alpine from "@alpinejs/csp";
import { flushQueue, queued } from "./offline-queue.js";
import { orderForm } from "./order-form.js";
import { picker } from "./picker.js";
import { setUpImport } from "./import.js";

Alpine.data("orderForm", orderForm);
Alpine.data("picker", picker);
window.Alpine = Alpine;
Alpine.start();

function showQueued() {
  const banner = document.getElementById("queued-banner");
  const n = queued().length;
  if (!banner) return;
  banner.hidden = n === 0;
  banner.textContent = banner.dataset.template.replace("{n}", String(n));
}

document.addEventListener("click", (e) => {
  const el = e.target instanceof Element ? e.target.closest("[data-back],[data-print]") : null;
  if (!el) return;
  if (el.hasAttribute("data-print")) window.print();
  else if (history.length > 1) {
    e.preventDefault();
    history.back();
  }
});

// Whatever was saved offline goes out as soon as any page of the mini-app is open and online.
window.addEventListener("online", () => flushQueue(showQueued));
flushQueue(showQueued).then(showQueued);
showQueued();

const importForm = document.querySelector("form[data-import]");
if (importForm) setUpImport(importForm);
