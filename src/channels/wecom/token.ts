import type { Cache } from "../../cache/cache";

/**
 * The app's access_token, shared by every instance through the cache (wecom.md 3.1: cache it, do not
 * call gettoken per request, it is frequency-limited). One refresh at a time: in-process callers share
 * one promise, and across instances the refresher holds a cache lock while the others keep using the
 * still-valid token or wait briefly for the new one.
 */
export interface TokenSource {
  /** A token valid for a while yet; refreshed ~5 min before it expires. */
  get(): Promise<string>;
  /** A token other than `bad`, which WeCom just refused (40014/42001): re-fetched unless someone already did. */
  renew(bad: string): Promise<string>;
}

export interface TokenDeps {
  cache: Cache;
  now: () => Date;
  /** Calls gettoken; throws ChannelError on failure. */
  fetchToken(): Promise<{ token: string; expiresInSec: number }>;
  /** How long to wait for another instance's refresh before fetching anyway. */
  waitMs?: number;
}

interface Stored {
  token: string;
  expiresAt: number;
  refreshAt: number;
}

const REFRESH_MARGIN_MS = 5 * 60 * 1000;
const LOCK_TTL_MS = 15_000;
const POLL_MS = 50;

export function createTokenSource(key: string, deps: TokenDeps): TokenSource {
  const inflight = new Map<string, Promise<string>>();
  const now = () => deps.now().getTime();

  async function read(): Promise<Stored | null> {
    const raw = await deps.cache.get(key);
    return raw ? (JSON.parse(raw) as Stored) : null;
  }

  const fresh = (s: Stored | null, bad: string | null): s is Stored => !!s && s.token !== bad && now() < s.refreshAt;
  const valid = (s: Stored | null, bad: string | null): s is Stored => !!s && s.token !== bad && now() < s.expiresAt;

  async function waitForOther(bad: string | null): Promise<string | null> {
    const until = Date.now() + (deps.waitMs ?? 3000);
    while (Date.now() < until) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      const s = await read();
      if (valid(s, bad)) return s.token;
    }
    return null;
  }

  async function refresh(bad: string | null): Promise<string> {
    const lock = await deps.cache.acquireLock(key, LOCK_TTL_MS);
    try {
      const current = await read();
      const usable = lock ? fresh(current, bad) : valid(current, bad);
      if (usable && current) return current.token;
      if (!lock) {
        const theirs = await waitForOther(bad);
        if (theirs) return theirs;
        // The lock holder may have died mid-refresh: fetch ourselves rather than fail the send.
      }
      const got = await deps.fetchToken();
      const lifetimeMs = got.expiresInSec * 1000;
      // WeCom answers a still-valid token with its remaining lifetime (wecom.md 3.1): when that is short,
      // refresh again halfway instead of at every call.
      const margin = lifetimeMs > 2 * REFRESH_MARGIN_MS ? REFRESH_MARGIN_MS : lifetimeMs / 2;
      const stored: Stored = { token: got.token, expiresAt: now() + lifetimeMs, refreshAt: now() + lifetimeMs - margin };
      await deps.cache.set(key, JSON.stringify(stored), lifetimeMs);
      return got.token;
    } finally {
      if (lock) await deps.cache.releaseLock(key, lock);
    }
  }

  function once(bad: string | null): Promise<string> {
    const slot = bad ?? "";
    let p = inflight.get(slot);
    if (!p) {
      p = refresh(bad).finally(() => inflight.delete(slot));
      inflight.set(slot, p);
    }
    return p;
  }

  return {
    async get() {
      const s = await read();
      return fresh(s, null) ? s.token : once(null);
    },
    async renew(bad) {
      const current = await read();
      if (current?.token === bad) await deps.cache.del(key);
      else if (valid(current, bad)) return current.token;
      return once(bad);
    },
  };
}
