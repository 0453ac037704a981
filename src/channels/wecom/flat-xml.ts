/**
 * WeCom's XML in its usual shape, read in one pass without an XML parser: an `<xml>` root holding flat
 * elements, each a CDATA section or plain text — the callback envelope (wecom.md 1.5) and most messages
 * inside it (text, enter_agent: wecom.md 2.1, 2.2). Every callback goes through this twice, and a general
 * parser cost more than decrypting it. Anything outside that shape — a declaration, a comment, an entity,
 * a nested element (a card event's SelectedItems), a self-closing or repeated element — returns null, and
 * the caller uses the full parser (fast-xml-parser) instead, so what this accepts is a strict subset of
 * what it would accept, with the same result: values as strings (CDATA as is, text trimmed), never numbers (MsgId > 2^53).
 */
export function readFlatXml(xml: string): Record<string, string> | null {
  const doc = xml.trim();
  if (!doc.startsWith("<xml>") || !doc.endsWith("</xml>")) return null;
  const body = doc.slice("<xml>".length, -"</xml>".length);
  // Sticky: each element starts where the previous one ended (whitespace between is allowed). CDATA may
  // hold "]" (chat text such as "[微笑]"), only not its own terminator.
  const element = /\s*<([A-Za-z][A-Za-z0-9_]{0,63})>(?:<!\[CDATA\[((?:[^\]]|\](?!\]>))*)\]\]>|([^<&]*))<\/\1>/y;
  const out: Record<string, string> = {};
  let at = 0;
  while (at < body.length) {
    element.lastIndex = at;
    const m = element.exec(body);
    if (!m) return body.slice(at).trim() === "" ? out : null;
    if (Object.hasOwn(out, m[1])) return null;
    out[m[1]] = m[2] ?? m[3].trim(); // as fast-xml-parser: CDATA kept as is, plain text trimmed
    at = element.lastIndex;
  }
  return out;
}
