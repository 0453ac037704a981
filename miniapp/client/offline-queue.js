// Orders saved while offline wait here (localStorage) and are sent when the phone is back online. Each
// carries the idempotency key it was created with, so a send that reached the server before the answer
// was lost places the order once.
import { ApiError, postJson } from "./api.js";

const QUEUE = "co.queue";

function read() {
  try {
    return JSON.parse(localStorage.getItem(QUEUE) || "[]");
  } catch {
    return [];
  }
}

function write(items) {
  localStorage.setItem(QUEUE, JSON.stringify(items));
}

export function queued() {
  return read();
}

export function enqueue(item) {
  write(read().filter((i) => i.key !== item.key).concat([Object.assign({ queuedAt: new Date().toISOString() }, item)]));
}

let flushing = false;

/**
 * Sends what is queued, oldest first. Stops at the first network failure (still offline); an order the
 * server refuses goes back to being a draft on this phone, with the reason, for the rep to fix.
 */
export async function flushQueue(onSent) {
  if (flushing || !navigator.onLine) return;
  flushing = true;
  try {
    for (const item of read()) {
      try {
        const saved = await postJson(item.url, item.body);
        write(read().filter((i) => i.key !== item.key));
        if (onSent) onSent(item, saved);
      } catch (err) {
        if (!(err instanceof ApiError)) return;
        write(read().filter((i) => i.key !== item.key));
        localStorage.setItem(item.draftKey, JSON.stringify(Object.assign({}, item.draft, { error: err.message })));
      }
    }
  } finally {
    flushing = false;
  }
}
