/**
 * The callback envelope as WeCom sends it (wecom.md 1.5): `<xml>` holding a few flat elements, each a CDATA
 * section or plain text — `<ToUserName><![CDATA[ww…]]></ToUserName><AgentID>…</AgentID><Encrypt>…</Encrypt>`.
 * Read in one pass without an XML parser, as every callback's first step; anything else in the envelope
 * (a declaration, a comment, an entity, a nested element, a repeated name) returns null and the caller
 * falls back to the full parser. Only Encrypt and ToUserName are used, and Encrypt is then signature-checked.
 */
export function flatEnvelope(xml: string): Record<string, string> | null {
  const doc = xml.trim();
  if (!doc.startsWith("<xml>") || !doc.endsWith("</xml>")) return null;
  const body = doc.slice("<xml>".length, -"</xml>".length);
  // Sticky: each element must start where the previous one ended (whitespace between is allowed).
  const element = /\s*<([A-Za-z][A-Za-z0-9_]{0,63})>(?:<!\[CDATA\[([^\]]*)\]\]>|([^<&]*))<\/\1>/y;
  const out: Record<string, string> = {};
  let at = 0;
  while (at < body.length) {
    element.lastIndex = at;
    const m = element.exec(body);
    if (!m) return body.slice(at).trim() === "" ? out : null;
    if (Object.hasOwn(out, m[1])) return null;
    out[m[1]] = (m[2] ?? m[3]).trim();
    at = element.lastIndex;
  }
  return out;
}
