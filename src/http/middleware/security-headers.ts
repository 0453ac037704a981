import type { Middleware } from "koa";
import helmet from "helmet";

/**
 * The Content-Security-Policy of every response. Every script and style the app serves is a file
 * under /assets (esbuild bundles, the platform SDKs included) or /dev/static, so nothing inline and
 * nothing from another origin is allowed:
 * - script-src 'self' and no 'unsafe-eval': the mini-app runs the CSP build of Alpine, and the
 *   dashboard's ECharts draws on a canvas without eval.
 * - style-src 'self' and no 'unsafe-inline': no page has a style attribute or <style>; the scripts
 *   only set element.style properties, which CSP does not restrict.
 * - img-src adds data: for the empty favicon of the layout (`<link rel="icon" href="data:,">`).
 * - frame-src 'none': the @wecom/jssdk APIs that build frames on login/open.work.weixin.qq.com (the
 *   trigger panel for browsers outside WeCom, open-data, the secure-gateway prompt) are not used;
 *   ww.scanQRCode and dingtalk-jsapi talk to the client through its native bridge.
 * - frame-ancestors 'none': WeCom and DingTalk, on phones and on the PC clients, open the pages as
 *   the top-level document of their own webview, never inside a frame of another site.
 */
export const CSP_DIRECTIVES = {
  "default-src": ["'self'"],
  "script-src": ["'self'"],
  "style-src": ["'self'"],
  "img-src": ["'self'", "data:"],
  "font-src": ["'self'"],
  "connect-src": ["'self'"],
  "object-src": ["'none'"],
  "frame-src": ["'none'"],
  "base-uri": ["'none'"],
  "form-action": ["'self'"],
  "frame-ancestors": ["'none'"],
} as const;

/** HSTS for half a year once the site is served over HTTPS; subdomains are the company's business. */
const HSTS_MAX_AGE_SEC = 180 * 24 * 3600;

/**
 * Security headers on every response, errors included (mount it before the error handler). HSTS and
 * upgrade-insecure-requests only when PUBLIC_URL is https: over plain http (a LAN trial, tests) they
 * would send browsers to a port that does not answer.
 */
export function securityHeaders(opts: { publicUrl: string }): Middleware {
  const headers = securityHeaderList(opts);
  return function setSecurityHeaders(ctx, next) {
    for (const [name, value] of headers) ctx.res.setHeader(name, value);
    return next();
  };
}

/**
 * The headers helmet sets for this configuration, worked out once. They depend on nothing in the
 * request (no nonces), and running helmet's dozen middlewares through a promise on every request
 * showed in the callback profiles; the routes answered outside Koa (direct-routes.ts) send the same list.
 */
export function securityHeaderList(opts: { publicUrl: string }): ReadonlyArray<readonly [string, string]> {
  const https = new URL(opts.publicUrl).protocol === "https:";
  const directives: Record<string, string[]> = Object.fromEntries(Object.entries(CSP_DIRECTIVES).map(([k, v]) => [k, [...v]]));
  if (https) directives["upgrade-insecure-requests"] = [];
  const middleware = helmet({
    contentSecurityPolicy: { useDefaults: false, directives },
    strictTransportSecurity: https ? { maxAge: HSTS_MAX_AGE_SEC, includeSubDomains: false } : false,
    // Our own pages keep the referrer (handy in access logs); other sites get none, since our URLs carry order ids.
    referrerPolicy: { policy: "same-origin" },
    xFrameOptions: { action: "deny" },
    // Off: it would make every cross-origin subresource opt in, and the pages load none anyway.
    crossOriginEmbedderPolicy: false,
  });
  const headers = new Map<string, string>();
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers.set(name, String(value));
      return recorder;
    },
    removeHeader(name: string) {
      headers.delete(name);
    },
    getHeader: (name: string) => headers.get(name),
  };
  let failed: unknown = null;
  middleware({ headers: {} } as never, recorder as never, (err?: unknown) => void (failed = err ?? null));
  if (failed) throw failed;
  return [...headers];
}
