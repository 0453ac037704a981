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

const BASE64_ALPHABET = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") BASE64_ALPHABET[c.charCodeAt(0)] = 1;

/**
 * Standard base64 with its padding: whole quads of A–Z a–z 0–9 + /, the last ending in at most two "=".
 * Checked on the string's bytes: charCodeAt() over the ~500 characters of every callback (a slice of
 * the request body) cost a regex's time in bench:wecom profiles; one copy to a buffer and a table lookup
 * per byte take a fifth of it. Anything outside ASCII makes the UTF-8 bytes outnumber the characters.
 */
export function isBase64(s: string): boolean {
  const n = s.length;
  if (n === 0 || n % 4 !== 0) return false;
  const bytes = Buffer.from(s, "utf8");
  if (bytes.length !== n) return false;
  let end = n;
  if (bytes[end - 1] === 61) end--; // "="
  if (bytes[end - 1] === 61) end--;
  for (let i = 0; i < end; i++) if (BASE64_ALPHABET[bytes[i]] !== 1) return false;
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
