/**
 * How a card tap carries our action and values through WeCom and back (render.ts encodes, inbound.ts
 * decodes). WeCom only echoes the button key (EventKey) and, for selections, the question_key and the
 * chosen option ids (wecom.md 2.2), so everything the bot needs has to fit in those strings:
 *
 *   button key    "<i>:<action>?<k>=<v>&..."      e.g. 0:approval.approve?orderId=12&stepId=3
 *   question_key  "<action>:<name>?0=<v0>&1=<v1>"  option ids are the indexes "0", "1", ...
 *
 * Components are percent-encoded (URLSearchParams), so keys are ASCII. The leading index keeps two
 * buttons with the same action and values unique, as WeCom requires (wecom.md 5.2). Keys are limited
 * to 1024 bytes (button_list[].key, submit_button.key, question_key; wecom.md 5.2).
 */

export const MAX_KEY_BYTES = 1024;

/** A key that decodes to nothing: used where WeCom needs a button but no tap should do anything. */
export const INERT_KEY = "-";

const BUTTON = /^(\d{1,2}):([^?]+)(?:\?(.*))?$/s;
const QUESTION = /^([^:?]+):([^?]+)\?(.*)$/s;

export class KeyTooLongError extends Error {
  constructor(what: string, bytes: number) {
    super(`${what} needs ${bytes} bytes, over WeCom's ${MAX_KEY_BYTES}`);
    this.name = "KeyTooLongError";
  }
}

function fits(key: string, what: string): string {
  const bytes = Buffer.byteLength(key, "utf8");
  if (bytes > MAX_KEY_BYTES) throw new KeyTooLongError(what, bytes);
  return key;
}

/** The key of the `index`-th button; throws KeyTooLongError rather than cut data the bot needs. */
export function encodeButtonKey(index: number, action: string, values: Record<string, string> = {}): string {
  const query = new URLSearchParams(Object.entries(values)).toString();
  return fits(`${index}:${encodeURIComponent(action)}${query ? `?${query}` : ""}`, `button key for ${action}`);
}

/** The action and values a tapped button stands for, or null for a key that is not ours. */
export function decodeButtonKey(key: string): { action: string; values: Record<string, string> } | null {
  const m = BUTTON.exec(key);
  if (!m) return null;
  try {
    return { action: decodeURIComponent(m[2]), values: Object.fromEntries(new URLSearchParams(m[3] ?? "")) };
  } catch {
    return null; // malformed percent-encoding: not a key we made
  }
}

/** The question_key of a selection; option i is sent with id String(i). */
export function encodeQuestionKey(action: string, name: string, optionValues: string[]): string {
  const query = new URLSearchParams(optionValues.map((v, i) => [String(i), v])).toString();
  return fits(`${encodeURIComponent(action)}:${encodeURIComponent(name)}?${query}`, `selection ${name}`);
}

/** The value chosen in a selection, from its question_key and the chosen option id; null when not ours. */
export function decodeSelection(questionKey: string, optionId: string): { action: string; name: string; value: string } | null {
  const m = QUESTION.exec(questionKey);
  if (!m) return null;
  try {
    const value = new URLSearchParams(m[3]).get(optionId);
    if (value === null) return null;
    return { action: decodeURIComponent(m[1]), name: decodeURIComponent(m[2]), value };
  } catch {
    return null;
  }
}
