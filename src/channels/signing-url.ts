import { DomainError } from "../domain/errors";

/**
 * The page URL a JS-SDK signature is made for: as the page sent it (the browser signs location.href,
 * so no re-encoding), without the fragment (wecom.md 6.3, dingtalk.md 6), and only for a page on our
 * own origin, so the endpoint signs nobody else's pages.
 */
export function signingUrl(raw: string, origin: string): string {
  const url = raw.split("#")[0];
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DomainError("validation_failed", "query.url: must be an absolute URL", { path: "query.url" });
  }
  if (parsed.origin !== origin) {
    throw new DomainError("validation_failed", `query.url: only pages on ${origin} are signed`, { path: "query.url" });
  }
  return url;
}
