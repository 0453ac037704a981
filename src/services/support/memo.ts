/**
 * A small per-app cache for data that changes rarely and is read on every order (rule sets, webhook
 * subscriptions, API keys). Changes made through this process forget their key at once; other instances
 * see them within the TTL.
 */
export interface Memo {
  get<T>(key: string, ttlMs: number, load: () => Promise<T>): Promise<T>;
  forget(prefix: string): void;
}

export function createMemo(now: () => number = Date.now): Memo {
  const entries = new Map<string, { at: number; value: Promise<unknown> }>();
  return {
    get<T>(key: string, ttlMs: number, load: () => Promise<T>): Promise<T> {
      const hit = entries.get(key);
      if (hit && now() - hit.at < ttlMs) return hit.value as Promise<T>;
      const value = load();
      entries.set(key, { at: now(), value });
      // A failed load is not remembered.
      value.catch(() => entries.get(key)?.value === value && entries.delete(key));
      return value;
    },
    forget(prefix: string) {
      for (const key of entries.keys()) if (key.startsWith(prefix)) entries.delete(key);
    },
  };
}
