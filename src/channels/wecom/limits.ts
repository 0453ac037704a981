/**
 * Field limits for app messages and template cards (wecom.md 4 and 5.2). Character counts are the docs'
 * "suggested" lengths; byte counts are hard limits. Where the docs give none we pick a conservative one
 * (marked "ours").
 */
export const LIMITS = {
  textBytes: 2048, // text.content (wecom.md 4; longer is cut by WeCom, 45002 on some paths)
  robotMarkdownBytes: 4096, // group robot markdown.content (wecom.md 7.3)
  taskIdBytes: 128,
  urlBytes: 2048,
  title: 36, // main_title.title
  titleDesc: 44, // main_title.desc
  subTitle: 160, // sub_title_text
  quote: 160, // quote_area.quote_text (ours: same as sub_title_text)
  sourceDesc: 20, // source.desc (ours)
  rows: 6, // horizontal_content_list
  keyname: 5,
  value: 30,
  jumpTitle: 18,
  buttons: 6,
  buttonText: 10,
  selectionTitle: 36, // button_selection.title / select_list[].title (ours: as main_title.title)
  options: 10, // button_selection / select_list option_list
  optionText: 16,
  submitText: 10,
  replaceText: 16, // replace_text (ours)
} as const;

/** Cuts to `max` characters (code points, so no surrogate pair is split), ending in "…" when cut. */
export function clipChars(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, Math.max(0, max - 1)).join("")}…`;
}

/** Cuts to at most `max` UTF-8 bytes on a character boundary, ending in "…" when cut. */
export function clipBytes(text: string, max: number): string {
  if (Buffer.byteLength(text, "utf8") <= max) return text;
  const budget = max - Buffer.byteLength("…", "utf8");
  let out = "";
  let used = 0;
  for (const ch of text) {
    const size = Buffer.byteLength(ch, "utf8");
    if (used + size > budget) break;
    out += ch;
    used += size;
  }
  return `${out}…`;
}
