import type { SimulatorMessage } from "../../../channels/simulator";
import type { CustomerRow } from "../../../db/models/customers";
import type { UserRow } from "../../../db/models/users";
import { ROLES, type Role } from "../../../domain/roles";

/** How the console names each role; the UI is Chinese like the chat clients it imitates. */
export const ROLE_LABELS: Record<Role, string> = {
  sales: "销售",
  manager: "经理",
  finance: "财务",
  director: "总监",
  warehouse: "仓库",
  admin: "管理员",
  purchasing: "采购",
};

/** One bubble of a conversation: what /messages lists and what the stream sends. */
export interface ChatItem {
  id: number;
  direction: "in" | "out";
  kind: "text" | "card";
  text: string | null;
  /** The rendered card for kind "card"; null for text, or when the card could not be drawn. */
  html: string | null;
  at: string;
}

export interface PersonView {
  platformUserId: string;
  name: string;
  roles: Role[];
  conversation: string;
}

export interface CustomerView {
  code: string;
  name: string;
  conversation: string;
}

export const customerConversation = (chatTarget: string) => `customer:${chatTarget}`;

export function presentMessage(m: SimulatorMessage, renderCard: (m: SimulatorMessage) => string | null): ChatItem {
  return {
    id: m.id,
    direction: m.direction,
    kind: m.kind,
    text: m.text,
    html: m.kind === "card" && m.card ? renderCard(m) : null,
    at: m.at,
  };
}

export function presentUser(u: UserRow): PersonView {
  return { platformUserId: u.platformUserId, name: u.name, roles: [...u.roles], conversation: `user:${u.platformUserId}` };
}

export function presentCustomer(c: CustomerRow): CustomerView {
  return { code: c.code, name: c.name, conversation: customerConversation(c.chatTarget ?? c.code) };
}

export interface RoleGroup {
  role: Role | "none";
  label: string;
  people: Array<PersonView & { roleLabels: string[] }>;
}

/** The picker's groups in ROLES order; a person sits under their first role and shows all of them. */
export function groupByRole(people: PersonView[]): RoleGroup[] {
  const groups = new Map<Role | "none", RoleGroup>();
  for (const role of ROLES) groups.set(role, { role, label: ROLE_LABELS[role], people: [] });
  groups.set("none", { role: "none", label: "未分配角色", people: [] });
  for (const p of people) {
    const first = ROLES.find((r) => p.roles.includes(r)) ?? "none";
    groups.get(first)?.people.push({ ...p, roleLabels: p.roles.filter((r) => r in ROLE_LABELS).map((r) => ROLE_LABELS[r]) });
  }
  return [...groups.values()].filter((g) => g.people.length > 0);
}
