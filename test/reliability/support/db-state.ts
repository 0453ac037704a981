import crypto from "node:crypto";
import type { App } from "../../../src/app";

/**
 * A fingerprint of every table, to prove a batch of refused requests changed no row. On MariaDB it is
 * CHECKSUM TABLE (the whole row image); on SQLite a hash of every row. api_keys.last_used_at is
 * left out: it is refreshed (at most once a minute) by any request carrying a valid key.
 */
export async function tableFingerprints(app: App): Promise<Record<string, string>> {
  const q = app.db.sequelize;
  const out: Record<string, string> = {};
  if (app.db.dialect === "mysql") {
    const [tables] = (await q.query("SHOW TABLES")) as [Array<Record<string, string>>, unknown];
    const names = tables.map((r) => Object.values(r)[0]).filter((n) => n !== "api_keys");
    const [sums] = (await q.query(`CHECKSUM TABLE ${names.map((n) => `\`${n}\``).join(", ")} EXTENDED`)) as [Array<{ Table: string; Checksum: string | number | null }>, unknown];
    for (const s of sums) out[s.Table.split(".").pop()!] = String(s.Checksum);
  } else {
    const [tables] = (await q.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'api_keys'")) as [Array<{ name: string }>, unknown];
    for (const { name } of tables) {
      const [rows] = await q.query(`SELECT * FROM "${name}" ORDER BY rowid`);
      out[name] = crypto.createHash("sha1").update(JSON.stringify(rows)).digest("hex");
    }
  }
  const [keys] = await q.query("SELECT id, name, prefix, hash, revoked_at FROM api_keys ORDER BY id");
  out.api_keys = crypto.createHash("sha1").update(JSON.stringify(keys)).digest("hex");
  return out;
}

/** The tables whose fingerprint differs. */
export function changedTables(before: Record<string, string>, after: Record<string, string>): string[] {
  return [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((t) => before[t] !== after[t]).sort();
}
