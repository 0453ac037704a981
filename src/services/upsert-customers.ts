import { Op } from "sequelize";
import { DomainError } from "../domain/errors";
import type { Actor } from "../domain/roles";
import type { CustomerRow } from "../db/models/customers";
import type { ServiceDeps } from "./deps";
import { diff, recordAudit } from "./support/audit";
import { lowerIn } from "./support/text-match";

export interface CustomerInput {
  code: string;
  name: string;
  level?: string | null;
  creditLimitFen?: number | null;
  contactName?: string | null;
  phone?: string | null;
  address?: string | null;
  ownerUserId?: number | null;
  paymentTermsDays?: number;
  chatPlatform?: string | null;
  chatTarget?: string | null;
  /** A WeCom external contact and the member who owns it; usable only as a pair (wecom.md 7.2). */
  wecomExternalUserId?: string | null;
  wecomOwnerUserId?: string | null;
  /** A DingTalk group: our robot's openConversationId, or a custom robot webhook (+ its signing secret). */
  dingtalkConversationId?: string | null;
  dingtalkWebhookUrl?: string | null;
  dingtalkWebhookSecret?: string | null;
  active?: boolean;
}

/** Credentials are audited as "set", never as their value. */
const SECRET_FIELDS = ["dingtalkWebhookUrl", "dingtalkWebhookSecret"] as const;
function redacted<T extends Record<string, unknown> | undefined>(values: T): T {
  if (!values) return values;
  const out: Record<string, unknown> = { ...values };
  for (const f of SECRET_FIELDS) if (out[f] !== undefined && out[f] !== null) out[f] = "(set)";
  return out as T;
}

export type CustomerView = ReturnType<typeof presentCustomer>;

/** Creates or updates customers by code, all or nothing. */
export async function upsertCustomers(deps: ServiceDeps, inputs: CustomerInput[], actor: Actor): Promise<CustomerView[]> {
  const seen = new Set<string>();
  inputs.forEach((c, i) => {
    const key = c.code.toLowerCase();
    if (seen.has(key)) throw new DomainError("validation_failed", `code ${c.code} appears twice`, { path: `${i}.code` });
    seen.add(key);
  });
  const owners = [...new Set(inputs.flatMap((c) => (c.ownerUserId ? [c.ownerUserId] : [])))];
  if (owners.length) {
    const found = new Set((await deps.db.models.User.findAll({ where: { id: { [Op.in]: owners } }, attributes: ["id"] })).map((u) => u.id));
    const i = inputs.findIndex((c) => c.ownerUserId && !found.has(c.ownerUserId));
    if (i >= 0) throw new DomainError("validation_failed", `unknown owner user ${inputs[i].ownerUserId}`, { path: `${i}.ownerUserId` });
  }
  const rows = await deps.db.transaction(async (tx) => {
    const m = deps.db.models;
    // Codes match without regard to letter case on every database (MariaDB's collation already does).
    const existing = await m.Customer.findAll({ where: lowerIn("code", inputs.map((c) => c.code)), transaction: tx });
    const byCode = new Map(existing.map((c) => [c.code.toLowerCase(), c]));
    const out: CustomerRow[] = [];
    for (const [i, input] of inputs.entries()) {
      const { code, ...rest } = input;
      const fields = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)) as Partial<CustomerRow>;
      const row = byCode.get(code.toLowerCase());
      assertWecomPair(i, { ...(row ? row.get({ plain: true }) : {}), ...fields });
      if (row) {
        const changes = diff(row.get({ plain: true }) as unknown as Record<string, unknown>, fields as Record<string, unknown>);
        if (Object.keys(changes.after).length > 0) {
          await row.update(fields, { transaction: tx });
          await recordAudit(deps, tx, { entity: "customer", entityId: row.id, action: "updated", actor, before: redacted(changes.before), after: redacted(changes.after) });
        }
        out.push(row);
      } else {
        const created = await m.Customer.create(
          {
            code,
            name: input.name,
            level: input.level ?? null,
            creditLimitFen: input.creditLimitFen ?? null,
            contactName: input.contactName ?? null,
            phone: input.phone ?? null,
            address: input.address ?? null,
            ownerUserId: input.ownerUserId ?? null,
            paymentTermsDays: input.paymentTermsDays ?? 30,
            chatPlatform: input.chatPlatform ?? null,
            chatTarget: input.chatTarget ?? null,
            wecomExternalUserId: input.wecomExternalUserId ?? null,
            wecomOwnerUserId: input.wecomOwnerUserId ?? null,
            dingtalkConversationId: input.dingtalkConversationId ?? null,
            dingtalkWebhookUrl: input.dingtalkWebhookUrl ?? null,
            dingtalkWebhookSecret: input.dingtalkWebhookSecret ?? null,
            active: input.active ?? true,
          },
          { transaction: tx },
        );
        await recordAudit(deps, tx, { entity: "customer", entityId: created.id, action: "created", actor, after: redacted(input as unknown as Record<string, unknown>) });
        out.push(created);
      }
    }
    return out;
  });
  return rows.map(presentCustomer);
}

export function presentCustomer(c: CustomerRow) {
  return {
    id: c.id,
    code: c.code,
    name: c.name,
    level: c.level,
    creditLimitFen: c.creditLimitFen,
    contactName: c.contactName,
    phone: c.phone,
    address: c.address,
    ownerUserId: c.ownerUserId,
    paymentTermsDays: c.paymentTermsDays,
    chatPlatform: c.chatPlatform,
    chatTarget: c.chatTarget,
    wecomExternalUserId: c.wecomExternalUserId ?? null,
    wecomOwnerUserId: c.wecomOwnerUserId ?? null,
    dingtalkConversationId: c.dingtalkConversationId ?? null,
    // The webhook's access_token and secret are credentials: shown only as whether they are set.
    dingtalkWebhook: c.dingtalkWebhookUrl ? { set: true, signed: !!c.dingtalkWebhookSecret } : null,
    active: c.active,
  };
}

/** An external contact is only reachable through the member who owns it: the two are set together. */
function assertWecomPair(i: number, merged: Partial<CustomerRow>) {
  const external = merged.wecomExternalUserId ?? null;
  const owner = merged.wecomOwnerUserId ?? null;
  if ((external === null) === (owner === null)) return;
  const missing = external === null ? "wecomExternalUserId" : "wecomOwnerUserId";
  const other = external === null ? "wecomOwnerUserId" : "wecomExternalUserId";
  throw new DomainError("validation_failed", `${missing} is required with ${other}`, { path: `${i}.${missing}` });
}
