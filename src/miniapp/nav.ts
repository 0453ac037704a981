import type { MessageKey } from "../domain/i18n";
import { hasRole } from "../domain/roles";
import type { MiniAppUser } from "../services/load-viewer";

export interface NavEntry {
  href: string;
  label: MessageKey;
  icon: string;
}

/**
 * The bottom tab bar: only what the person's roles can use. Later pages (dashboard, admin) add their
 * entry here with their role check.
 */
export function navFor(viewer: MiniAppUser): NavEntry[] {
  const a = viewer.actor;
  const entries: NavEntry[] = [{ href: "/m", label: "nav.home", icon: "⌂" }];
  if (hasRole(a, "sales", "manager", "director", "admin")) entries.push({ href: "/m/orders/new", label: "nav.newOrder", icon: "＋" });
  if (hasRole(a, "sales", "manager", "director", "finance", "admin")) entries.push({ href: "/m/orders", label: "nav.orders", icon: "☰" });
  if (hasRole(a, "manager", "director", "finance", "admin")) entries.push({ href: "/m/approvals", label: "nav.approvals", icon: "✓" });
  if (hasRole(a, "warehouse", "admin")) entries.push({ href: "/m/warehouse", label: "nav.warehouse", icon: "▣" });
  if (hasRole(a, "manager", "director", "admin")) entries.push({ href: "/m/dashboard", label: "nav.dashboard", icon: "▤" });
  if (hasRole(a, "admin")) entries.push({ href: "/m/admin", label: "nav.admin", icon: "⚙" });
  return entries;
}
