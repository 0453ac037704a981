// fetch for the mini-app's JSON endpoints: same-origin, with the CSRF token from the page's <meta>.
// A token refused after the session was renewed (a queued order sent hours later) is fetched once more.

function token() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

async function freshToken() {
  const res = await fetch("/m/api/csrf", { credentials: "same-origin" });
  if (!res.ok) return;
  const body = await res.json();
  const meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) meta.content = body.token;
}

/** An HTTP answer that is not 2xx: the server's message and code, and whether trying again could help. */
export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error && body.error.message) || "HTTP " + status);
    this.status = status;
    this.code = body && body.error && body.error.code;
  }
}

export async function getJson(url) {
  const res = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, body);
  return body;
}

/** POST JSON. Network failures reject with a TypeError (the caller queues); HTTP refusals with ApiError. */
export async function postJson(url, data, retried) {
  const res = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": token() },
    body: JSON.stringify(data),
  });
  const body = await res.json().catch(() => null);
  if (res.status === 403 && body && body.error && body.error.details && body.error.details.reason === "csrf" && !retried) {
    await freshToken();
    return postJson(url, data, true);
  }
  if (!res.ok) throw new ApiError(res.status, body);
  return body;
}
