import os from "node:os";
import { createApp, type App } from "./app";
import { addFromDirectory } from "./channels/directory-members";
import { ConfigError, loadConfig } from "./config";
import { migrate } from "./db/migrate";
import { isDomainError } from "./domain/errors";
import type { Actor } from "./domain/roles";
import { OUTBOX_STATUSES, type OutboxStatus } from "./services/outbox-admin";
import { seedDemoData } from "./services/seed-demo-data";
import { listJobRuns } from "./services/job-runs";
import { checkRolesInput, listUsers, setUserRoles, type UserView } from "./services/users";

const USAGE = `usage: npm run cli -- <command>

  migrate                      apply pending database migrations
  seed                         load the demo company (users, customers, products, stock) if absent
  apikey create --name <name>  create an API key; it is printed once and stored hashed
  apikey list                  list keys (prefix, name, last used)
  apikey revoke <prefix>       revoke a key
  webhook add --url <url> --events <e1,e2|*>   send signed order events to an ERP
  webhook list | remove <id>
  outbox list [--status dead]  messages waiting, failing or dead (default: dead)
  outbox retry <id>|--dead     send a dead message again (one, or every dead one)
  job run <name>               run one scheduled job once now (under its lock), e.g. approval-reminders
  job list                     every job and its last run
  users list [--platform <wecom|dingtalk|simulator>]
  users set-roles --platform <p> --user <platform user id> --roles <r1,r2|"">
                               replace a user's roles (sales, manager, finance, director, warehouse, admin);
                               someone who has not messaged the bot yet is looked up in the WeCom or
                               DingTalk directory (when configured) and added
`;

type Command = (app: App, args: string[]) => Promise<void>;

const COMMANDS: Record<string, Command> = {
  async migrate(app) {
    const applied = await migrate(app.db, app.log);
    process.stdout.write(applied.length ? `applied: ${applied.join(", ")}\n` : "database is up to date\n");
  },
  async seed(app) {
    await migrate(app.db, app.log);
    const { created } = await seedDemoData(app.deps);
    process.stdout.write(created ? "demo data loaded\n" : "demo data already present; nothing changed\n");
  },
  async apikey(app, args) {
    const [sub, ...rest] = args;
    await migrate(app.db, app.log);
    if (sub === "create") {
      const name = flag(rest, "--name");
      if (!name || !/^[\w.-]{1,48}$/.test(name)) throw new UsageError("apikey create needs --name <1–48 letters, digits, . _ ->");
      const { key } = await app.services.createApiKey(name);
      process.stdout.write(`API key for "${name}" (shown once, store it now):\n${key}\n`);
    } else if (sub === "list") {
      for (const k of await app.services.listApiKeys()) {
        const state = k.revokedAt ? "revoked" : "active";
        process.stdout.write(`${k.prefix}  ${k.name}  ${state}  last used ${k.lastUsedAt?.toISOString() ?? "never"}\n`);
      }
    } else if (sub === "revoke" && rest[0]) {
      const done = await app.services.revokeApiKey(rest[0]);
      process.stdout.write(done ? `revoked ${rest[0]}\n` : `no active key with prefix ${rest[0]}\n`);
      if (!done) process.exitCode = 1;
    } else {
      throw new UsageError("apikey needs create --name <name> | list | revoke <prefix>");
    }
  },
  async webhook(app, args) {
    const [sub, ...rest] = args;
    await migrate(app.db, app.log);
    if (sub === "add") {
      const url = flag(rest, "--url");
      const events = flag(rest, "--events");
      if (!url || !events) throw new UsageError("webhook add needs --url <url> --events <e1,e2|*>");
      const hook = await app.services.createWebhook({ url, events: events.split(",").map((e) => e.trim()) });
      process.stdout.write(`webhook #${hook.id} → ${hook.url} (${hook.events.join(",")})\nsigning secret (shown once): ${hook.secret}\n`);
    } else if (sub === "list") {
      for (const h of await app.services.listWebhooks()) {
        process.stdout.write(`#${h.id}  ${h.active ? "active" : "removed"}  ${h.url}  ${h.events.join(",")}\n`);
      }
    } else if (sub === "remove" && /^\d+$/.test(rest[0] ?? "")) {
      process.stdout.write((await app.services.removeWebhook(Number(rest[0]))) ? "removed\n" : "no such active webhook\n");
    } else {
      throw new UsageError("webhook needs add --url <url> --events <list> | list | remove <id>");
    }
  },
  async outbox(app, args) {
    const [sub, ...rest] = args;
    if (sub === "list") {
      const status = flag(rest, "--status") ?? "dead";
      if (!OUTBOX_STATUSES.includes(status as OutboxStatus)) throw new UsageError(`--status is one of ${OUTBOX_STATUSES.join(", ")}`);
      const rows = await app.services.listOutboxMessages({ status: status as OutboxStatus, limit: 200 });
      if (rows.length === 0) process.stdout.write(`no ${status} messages\n`);
      for (const r of rows) {
        process.stdout.write(`#${r.id}  ${r.topic}  attempts=${r.attempts}  ${r.dedupeKey}\n    ${r.lastError ?? ""}\n`);
      }
    } else if (sub === "retry" && rest[0]) {
      if (rest[0] !== "--dead" && !/^\d+$/.test(rest[0])) throw new UsageError("outbox retry needs a numeric id or --dead");
      const count = await app.services.retryDeadOutbox(rest[0] === "--dead" ? "all" : { id: Number(rest[0]) }, cliActor());
      process.stdout.write(`${count} message(s) queued again\n`);
    } else {
      throw new UsageError("outbox needs list [--status <status>] | retry <id>|--dead");
    }
  },
  async job(app, args) {
    const [sub, name] = args;
    await migrate(app.db, app.log);
    const runner = app.jobRunner({ schedule: false });
    if (sub === "run" && name) {
      if (!runner.names().includes(name)) throw new UsageError(`no job named ${name}; jobs: ${runner.names().join(", ")}`);
      const result = await runner.runNow(name);
      process.stdout.write(result === null ? `${name} is running on another instance; nothing done\n` : `${name}: ${JSON.stringify(result)}\n`);
    } else if (sub === "list") {
      const runs = new Map((await listJobRuns(app.deps)).map((r) => [r.name, r]));
      for (const job of runner.names()) {
        const r = runs.get(job);
        process.stdout.write(r ? `${job}  ${r.outcome}  ${r.startedAt}  ${r.durationMs ?? "-"} ms${r.error ? `  ${r.error}` : ""}\n` : `${job}  never run\n`);
      }
    } else {
      throw new UsageError("job needs run <name> | list");
    }
  },
  async users(app, args) {
    const [sub, ...rest] = args;
    await migrate(app.db, app.log);
    if (sub === "list") {
      const users = await listUsers(app.deps, { platform: flag(rest, "--platform") });
      if (users.length === 0) process.stdout.write("no users\n");
      for (const u of users) process.stdout.write(`${describeUser(u)}\n`);
    } else if (sub === "set-roles") {
      const [platform, user, roles] = ["--platform", "--user", "--roles"].map((name) => flag(rest, name));
      if (!platform || !user || roles === undefined) throw new UsageError("users set-roles needs --platform <p> --user <platform user id> --roles <r1,r2>");
      const list = roles.split(",").map((r) => r.trim()).filter(Boolean);
      const input = { platform, platformUserId: user, roles: list };
      checkRolesInput(input); // a bad platform or role adds nobody
      // Someone we have not met yet is looked up in the platform's directory (user/get) and created first.
      const channel = app.channels.get(platform);
      if (channel) await addFromDirectory(app.deps, platform, user, (id) => channel.resolveUser(id), cliActor());
      const { user: updated, changed } = await setUserRoles(app.deps, input, cliActor()).catch((err: unknown) => {
        throw isDomainError(err) && err.code === "not_found" && !channel ? new Error(`${err.message}. ${notMetYet(platform)}`) : err;
      });
      process.stdout.write(`${changed ? "roles set" : "roles unchanged"}: ${describeUser(updated)}\n`);
      const managed = platform === "wecom" ? [...new Set(app.config.wecom?.roleMap.map((r) => r.role) ?? [])] : [];
      if (managed.length) {
        process.stdout.write(`note: ${managed.join(", ")} follow WECOM_ROLE_MAP for WeCom users; the next directory refresh sets them from WeCom tags and departments\n`);
      }
      const dingtalkManaged = platform === "dingtalk" ? [...new Set(app.config.dingtalk?.roleMap.map((r) => r.role) ?? [])] : [];
      if (dingtalkManaged.length) {
        process.stdout.write(`note: ${dingtalkManaged.join(", ")} follow DINGTALK_ROLE_MAP for DingTalk users; the next directory refresh sets them from DingTalk departments\n`);
      }
    } else {
      throw new UsageError("users needs list [--platform <p>] | set-roles --platform <p> --user <id> --roles <r1,r2>");
    }
  },
};

class UsageError extends Error {}

/** What to do about a user we have never met, on a platform this process cannot look people up on. */
function notMetYet(platform: string): string {
  const name = platform === "wecom" ? "WeCom" : platform === "dingtalk" ? "DingTalk" : null;
  const met = "ChatOrder adds a user when they first message the bot or sign in to the mini-app";
  if (!name) return `${met}.`;
  return `${met}; to set roles before that, run this command with ${name} configured (the same ${platform.toUpperCase()}_* settings as the server), and the member is looked up in the ${name} directory.`;
}

function describeUser(u: UserView): string {
  const roles = u.roles.length ? u.roles.join(",") : "(no roles)";
  return `#${u.id}  ${u.platform}  ${u.platformUserId}  ${u.name}  ${roles}${u.active ? "" : "  inactive"}`;
}

/** Who ran the command, for the audit trail ("cli:<login>"). */
function cliActor(): Actor {
  let login = "unknown";
  try {
    login = os.userInfo().username || login;
  } catch {
    // No passwd entry for this uid (some containers).
  }
  return { kind: "system", userId: null, roles: [], label: `cli:${login}`.slice(0, 64) };
}

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** Operator commands; shares app.ts with the server so they see the same configuration and database. */
export async function runCli(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  const command = name ? COMMANDS[name] : undefined;
  if (!command) {
    process.stderr.write(name && name !== "help" ? `unknown command: ${name}\n\n${USAGE}` : USAGE);
    return name && name !== "help" ? 2 : 0;
  }
  let app: App | null = null;
  try {
    app = createApp(loadConfig({ ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? "warn" }));
    await command(app, args);
    return Number(process.exitCode ?? 0);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n\n${USAGE}`);
      return 2;
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`chatorder: bad configuration: ${err.message}\n`);
      return 1;
    }
    process.stderr.write(`chatorder: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  } finally {
    await app?.close();
  }
}

if (require.main === module) {
  void runCli(process.argv.slice(2)).then((code) => process.exit(code));
}
