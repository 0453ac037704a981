import crypto from "node:crypto";
import { decrypt, encrypt, getSignature } from "@wecom/crypto";

/** Why a callback was refused; routes.ts turns each into a 4xx. */
export type CallbackRefusal = "forged" | "stale" | "wrong_receiver" | "malformed" | "too_large";

export class CallbackError extends Error {
  constructor(
    readonly reason: CallbackRefusal,
    message: string,
  ) {
    super(message);
    this.name = "CallbackError";
  }
}

/** Standard base64 with its padding: whole quads of A–Z a–z 0–9 + /, the last ending in at most two "=". */
export function isBase64(s: string): boolean {
  const n = s.length;
  if (n === 0 || n % 4 !== 0) return false;
  let end = n;
  if (s.charCodeAt(end - 1) === 61) end--; // "="
  if (s.charCodeAt(end - 1) === 61) end--;
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i);
    // A regex over the ~500 characters of every callback showed in its profile; this loop is a fraction of it.
    if (!((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47)) return false;
  }
  return true;
}

/** msg_signature over token, timestamp, nonce and the ciphertext (wecom.md 1.3), compared in constant time. */
export function verifySignature(token: string, timestamp: string, nonce: string, encrypted: string, signature: string): boolean {
  const expected = Buffer.from(getSignature(token, timestamp, nonce, encrypted), "utf8");
  const given = Buffer.from(signature.toLowerCase(), "utf8");
  return given.length === expected.length && crypto.timingSafeEqual(given, expected);
}

/** Signs our own ciphertext, e.g. a passive reply or a simulated WeCom request in tests (wecom.md 1.6). */
export function signature(token: string, timestamp: string, nonce: string, encrypted: string): string {
  return getSignature(token, timestamp, nonce, encrypted);
}

/**
 * Decrypts a callback ciphertext and checks it was meant for `receiveId` (our corp id, wecom.md 1.4).
 * `@wecom/crypto`'s decrypt checks neither the id nor the padding (wecom.md 1.8): it returns the data
 * unpadded when the pad byte is out of range and slices silently when msg_len runs past the buffer.
 * Both leave junk in (or an empty) trailing id, so requiring the id to equal the corp id exactly also
 * refuses bad padding and bad lengths. Only called after the signature has been verified.
 */
export function decryptFor(aesKey: string, encrypted: string, receiveId: string): string {
  if (!isBase64(encrypted)) {
    throw new CallbackError("malformed", "ciphertext is not base64");
  }
  let opened: { message: string; id: string };
  try {
    opened = decrypt(aesKey, encrypted);
  } catch {
    // Wrong block length, a buffer too short for the 20-byte header, ...: the library throws.
    throw new CallbackError("malformed", "ciphertext does not decrypt");
  }
  if (opened.id !== receiveId) throw new CallbackError("wrong_receiver", "callback is for another receiver");
  return opened.message;
}

/** Encrypts `message` for `receiveId` the way WeCom does (tests, passive replies); `random` fixes the 16 random bytes. */
export function encryptFor(aesKey: string, message: string, receiveId: string, random?: Buffer): string {
  return encrypt(aesKey, message, receiveId, random);
}
