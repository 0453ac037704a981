import crypto from "node:crypto";
import { DomainError } from "../domain/errors";
import { SYSTEM_ACTOR, type Actor } from "../domain/roles";
import type { ServiceDeps } from "./deps";
import { recordAudit } from "./support/audit";

const KEY_PATTERN = /^co_([a-z0-9]{10})_([A-Za-z0-9_-]{32,64})$/;

const sha256 = (s: string) => crypto.createHash("sha256").update(s).digest("hex");

/** Creates a key; the plain key is returned once and only its hash is stored. */
export async function createApiKey(deps: ServiceDeps, name: string): Promise<{ id: number; name: string; key: string }> {
  // The name becomes the audit label "api:<name>", which must fit the 64-character actor columns.
  if (!/^[\w.-]{1,48}$/.test(name)) {
    throw new DomainError("validation_failed", "a key name is 1–48 letters, digits, dot, dash or underscore", { path: "name" });
  }
  const prefix = crypto.randomBytes(8).toString("hex").slice(0, 10);
  const secret = crypto.randomBytes(32).toString("base64url");
  const key = `co_${prefix}_${secret}`;
  const row = await deps.db.transaction(async (tx) => {
    const created = await deps.db.models.ApiKey.create({ name, prefix, hash: sha256(key) }, { transaction: tx });
    await recordAudit(deps, tx, { entity: "api_key", entityId: created.id, action: "created", actor: SYSTEM_ACTOR, after: { name, prefix } });
    return created;
  });
  return { id: row.id, name, key };
}

/** The actor for a presented key, or null. Lookup by prefix, then a constant-time hash comparison. */
export async function authenticateApiKey(deps: ServiceDeps, presented: string): Promise<Actor | null> {
  const match = KEY_PATTERN.exec(presented);
  if (!match) return null;
  // Keys are looked up at most every 30 s per process; a revocation elsewhere takes effect within that.
  const row = await deps.memo.get(`apikey:${match[1]}`, 30_000, () => deps.db.models.ApiKey.findOne({ where: { prefix: match[1] } }));
  if (!row || row.revokedAt) return null;
  const a = Buffer.from(row.hash, "hex");
  const b = Buffer.from(sha256(presented), "hex");
  if (a.length !== b.length || !crypto.timingSafeEqual(a, b)) return null;
  // Recording use is best effort and at most once a minute per key; it must not slow every request.
  const now = deps.now();
  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > 60_000) {
    row.lastUsedAt = now;
    void deps.db.models.ApiKey.update({ lastUsedAt: now }, { where: { id: row.id } }).catch(() => undefined);
  }
  return { kind: "api", userId: null, roles: [], label: `api:${row.name}`.slice(0, 64) };
}

export async function revokeApiKey(deps: ServiceDeps, prefix: string): Promise<boolean> {
  const [count] = await deps.db.models.ApiKey.update({ revokedAt: deps.now() }, { where: { prefix, revokedAt: null } });
  deps.memo.forget(`apikey:${prefix}`);
  return count === 1;
}

export async function listApiKeys(deps: ServiceDeps) {
  const rows = await deps.db.models.ApiKey.findAll({ order: [["id", "ASC"]] });
  return rows.map((r) => ({ id: r.id, name: r.name, prefix: r.prefix, createdAt: r.createdAt, lastUsedAt: r.lastUsedAt, revokedAt: r.revokedAt }));
}
