import type Router from "@koa/router";
import type { Context } from "koa";
import { z } from "zod";
import { evaluateRoute, parseRuleSet, type ApprovalRoute, type RouteInput, type RuleSet } from "../../domain/approval-rules";
import { DomainError } from "../../domain/errors";
import { t, type MessageKey } from "../../domain/i18n";
import { ROLES, hasRole } from "../../domain/roles";
import type { PageContext } from "../page";
import { formOf, localeOfCtx, viewerOf } from "../page";

/** Every /m/admin page and action is for admins only; checked on the server, before anything is read. */
export function requireAdmin(ctx: Context): void {
  if (!hasRole(viewerOf(ctx).actor, "admin")) throw new DomainError("forbidden", "the admin pages are for admins");
}

const RetryForm = z.object({ id: z.union([z.literal("all"), z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER)]) });
const RolesForm = z.object({
  platform: z.string().min(1).max(16),
  platformUserId: z.string().min(1).max(128),
  roles: z.preprocess((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]), z.array(z.enum(ROLES)).max(ROLES.length)),
});
const RulesForm = z.object({ rules: z.string().max(60_000), action: z.enum(["preview", "save"]) });

/** A few orders the rules editor runs every rule set against, so the admin sees the routes before saving. */
const SAMPLES: Array<{ label: MessageKey; input: RouteInput }> = [
  { label: "rules.sampleSmall", input: sample(80_000, 80_000, { level: "B", creditLimitFen: null }) },
  { label: "rules.sampleDiscount", input: sample(800_000, 720_000, { level: "B", creditLimitFen: null }) },
  { label: "rules.sampleLarge", input: sample(6_000_000, 6_000_000, { level: "A", creditLimitFen: null }) },
  { label: "rules.sampleCredit", input: sample(300_000, 300_000, { level: "C", creditLimitFen: 100_000 }) },
];

function sample(listFen: number, unitFen: number, customer: RouteInput["customer"]): RouteInput {
  return { totalFen: unitFen, lines: [{ sku: "SAMPLE", category: null, listPriceFen: listFen, unitPriceFen: unitFen, floorPriceFen: null, qty: 1 }], customer, openReceivablesFen: 0 };
}

/** GET/POST /m/admin/*: dead outbox messages, users and roles, the approval rules editor. */
export function adminPages(router: Router, { deps, render }: PageContext): void {
  router.get("/admin", async function adminHome(ctx) {
    requireAdmin(ctx);
    const dead = await deps.services.listOutboxMessages({ status: "dead", limit: 500 });
    render(ctx, "m/admin.njk", { title: t(localeOfCtx(ctx), "admin.title"), deadCount: dead.length });
  });

  router.get("/admin/outbox", async function deadOutbox(ctx) {
    requireAdmin(ctx);
    const locale = localeOfCtx(ctx);
    const messages = await deps.services.listOutboxMessages({ status: "dead" });
    const retried = Number(ctx.query.retried);
    const flash = Number.isInteger(retried) && retried >= 0 && ctx.query.retried !== undefined ? t(locale, "outbox.retried", { n: retried }) : null;
    render(ctx, "m/admin-outbox.njk", { title: t(locale, "outbox.title"), back: "/m/admin", messages, flash });
  });

  router.post("/admin/outbox/retry", async function retryOutbox(ctx) {
    requireAdmin(ctx);
    const { id } = formOf(RetryForm, ctx);
    const count = await deps.services.retryDeadOutbox(id === "all" ? "all" : { id }, viewerOf(ctx).actor);
    ctx.redirect(`/m/admin/outbox?retried=${count}`);
  });

  router.get("/admin/jobs", async function jobRuns(ctx) {
    requireAdmin(ctx);
    const runs = await deps.services.listJobRuns();
    render(ctx, "m/admin-jobs.njk", { title: t(localeOfCtx(ctx), "jobs.title"), back: "/m/admin", runs });
  });

  router.get("/admin/users", async function users(ctx) {
    requireAdmin(ctx);
    const locale = localeOfCtx(ctx);
    const list = await deps.services.listUsers({});
    const flash = ctx.query.done === "roles" ? t(locale, "users.saved") : null;
    render(ctx, "m/admin-users.njk", { title: t(locale, "users.title"), back: "/m/admin", users: list, roles: ROLES, flash });
  });

  router.post("/admin/users/roles", async function setRoles(ctx) {
    requireAdmin(ctx);
    const viewer = viewerOf(ctx);
    const form = formOf(RolesForm, ctx);
    // An admin cannot lock themselves (and possibly everyone) out of these pages by mistake.
    const target = await deps.services.findPlatformUser(form.platform, form.platformUserId);
    if (target?.id === viewer.id && !form.roles.includes("admin")) {
      throw new DomainError("validation_failed", t(localeOfCtx(ctx), "users.keepOwnAdmin"), { path: "roles", localized: true });
    }
    await deps.services.setUserRoles(form, viewer.actor);
    ctx.redirect("/m/admin/users?done=roles");
  });

  router.get("/admin/rules", async function rulesEditor(ctx) {
    requireAdmin(ctx);
    const rules = await deps.services.getActiveRuleSet();
    renderRules(ctx, JSON.stringify(rules, null, 2), { preview: previewOf(rules), flash: ctx.query.done === "saved" ? t(localeOfCtx(ctx), "rules.saved") : null });
  });

  router.post("/admin/rules", async function saveRules(ctx) {
    requireAdmin(ctx);
    const locale = localeOfCtx(ctx);
    const form = formOf(RulesForm, ctx);
    let rules: RuleSet;
    try {
      let json: unknown;
      try {
        json = JSON.parse(form.rules);
      } catch (err) {
        throw new DomainError("validation_failed", t(locale, "rules.badJson", { message: (err as Error).message }));
      }
      rules = parseRuleSet(json);
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      // The text stays in the editor with the reason; nothing is saved.
      return renderRules(ctx, form.rules, { error: err.message }, 422);
    }
    if (form.action === "save") {
      await deps.services.saveRuleSet(rules, viewerOf(ctx).actor);
      return ctx.redirect("/m/admin/rules?done=saved");
    }
    renderRules(ctx, form.rules, { preview: previewOf(rules), previewing: true });
  });

  function renderRules(ctx: Context, text: string, extra: Record<string, unknown>, status = 200) {
    render(ctx, "m/admin-rules.njk", { title: t(localeOfCtx(ctx), "rules.title"), back: "/m/admin", text, ...extra }, status);
  }
}

function previewOf(rules: RuleSet): Array<{ label: MessageKey; totalFen: number; route: ApprovalRoute }> {
  return SAMPLES.map((s) => ({ label: s.label, totalFen: s.input.totalFen, route: evaluateRoute(rules, s.input) }));
}
