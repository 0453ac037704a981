/** The small key-value port: job claims and locks, platform tokens, card codes and rate limits. */
export interface Cache {
  readonly kind: "memory" | "redis";
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  /** SET NX with a TTL: true when this caller stored the value (i.e. saw the key first). */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  del(key: string): Promise<void>;
  /** Increments a counter that expires `ttlMs` after it was created; returns the new value. */
  incr(key: string, ttlMs: number): Promise<number>;
  /** Adds `by` (≥ 0) to a counter that expires `ttlMs` after it was created; returns the new value. */
  incrBy(key: string, by: number, ttlMs: number): Promise<number>;
  /** Token bucket: 0 when a token was taken, otherwise how many ms until one is available. */
  takeToken(bucket: string, ratePerSec: number, burst: number): Promise<number>;
  /** A lease-style lock; returns a token to release with, or null when someone else holds it. */
  acquireLock(name: string, ttlMs: number): Promise<string | null>;
  releaseLock(name: string, token: string): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function lockToken(): string {
  return `${process.pid}:${Math.random().toString(36).slice(2)}:${Date.now()}`;
}
