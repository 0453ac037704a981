import crypto from "node:crypto";
import type { Cache } from "../../cache/cache";

/**
 * How a card button carries our action and values through DingTalk and back. The card template's
 * button N calls back with actionId "btnN" and params {key: "${btnN_key}"} (cards/dingtalk/); the key
 * is "<action>?<k>=<v>&…" (URLSearchParams-encoded). Whether the card builder binds a variable into
 * callback params is unconfirmed, so the keys are also kept by outTrackId and an actionId alone is
 * enough to find its button again.
 */

/** The template contract has six buttons: a choice of up to six options fits without a select. */
export const MAX_BUTTONS = 6;
const BUTTONS_TTL_MS = 60 * 24 * 60 * 60 * 1000;
const KEY = /^([^?]+)(?:\?(.*))?$/s;

export function encodeKey(action: string, values: Record<string, string> = {}): string {
  const query = new URLSearchParams(Object.entries(values)).toString();
  return `${encodeURIComponent(action)}${query ? `?${query}` : ""}`;
}

export function decodeKey(key: string): { action: string; values: Record<string, string> } | null {
  const m = KEY.exec(key);
  if (!m) return null;
  try {
    return { action: decodeURIComponent(m[1]), values: Object.fromEntries(new URLSearchParams(m[2] ?? "")) };
  } catch {
    return null;
  }
}

/** A unique outTrackId per card (dingtalk.md 5): ours, ASCII, short. */
export function newOutTrackId(): string {
  return `co-${crypto.randomUUID()}`;
}

const buttonsKey = (outTrackId: string) => `dingtalk:card-buttons:${outTrackId}`;

/** Keeps a sent card's button keys, in button order, for callbacks that bring only an actionId. */
export async function rememberButtons(cache: Cache, outTrackId: string, keys: string[]): Promise<void> {
  await cache.set(buttonsKey(outTrackId), JSON.stringify(keys), BUTTONS_TTL_MS);
}

/** The tapped button's key: from the callback params, else by actionId "btnN" from the kept keys. */
export async function tappedKey(cache: Cache, tap: { outTrackId: string; actionId: string | null; params: Record<string, unknown> }): Promise<string | null> {
  if (typeof tap.params.key === "string" && tap.params.key) return tap.params.key;
  const n = /^btn([1-9])$/.exec(tap.actionId ?? "");
  if (!n) return null;
  const raw = await cache.get(buttonsKey(tap.outTrackId));
  const keys = raw ? (JSON.parse(raw) as unknown) : null;
  const key = Array.isArray(keys) ? keys[Number(n[1]) - 1] : undefined;
  return typeof key === "string" && key ? key : null;
}
