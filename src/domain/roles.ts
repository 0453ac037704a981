// purchasing: receives low-stock alerts with reorder suggestions (with admins).
export const ROLES = ["sales", "manager", "finance", "director", "warehouse", "admin", "purchasing"] as const;
export type Role = (typeof ROLES)[number];

/** Who is acting: a person through chat or the mini-app, an ERP through an API key, or the system. */
export interface Actor {
  kind: "user" | "api" | "system";
  userId: number | null;
  roles: readonly Role[];
  /** For the audit trail: "user:12", "api:erp", "system:reminders". */
  label: string;
}

export const SYSTEM_ACTOR: Actor = Object.freeze({ kind: "system", userId: null, roles: [], label: "system" });

export function isRole(s: string): s is Role {
  return (ROLES as readonly string[]).includes(s);
}

export function hasRole(actor: Pick<Actor, "roles">, ...roles: Role[]): boolean {
  return actor.roles.some((r) => roles.includes(r));
}
