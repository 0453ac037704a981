import fs from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";
import { buildSync } from "esbuild";
import request from "supertest";
import ts from "typescript";
import { createTestApp, type TestApp } from "../helpers/test-app";

/**
 * What can be checked of the deployment files without a Docker engine: the runtime image gets every file
 * the app reads, runs as a non-root user, probes routes the app serves, and `npm ci --omit=dev` installs
 * every package the compiled code requires.
 */
const ROOT = path.resolve(__dirname, "../..");
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), "utf8");

interface Instruction {
  cmd: string;
  args: string;
}
interface Stage {
  name: string;
  workdir: string;
  instructions: Instruction[];
}

/** Dockerfile → stages (comments dropped, continuation lines joined). */
function parseDockerfile(text: string): Stage[] {
  const joined = text
    .split("\n")
    .filter((l) => !/^\s*#/.test(l))
    .join("\n")
    .replace(/\\\n/g, " ");
  const stages: Stage[] = [];
  for (const line of joined.split("\n")) {
    const m = /^\s*([A-Z]+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const [, cmd, args] = m;
    if (cmd === "FROM") {
      stages.push({ name: /\bAS\s+(\S+)/i.exec(args)?.[1] ?? String(stages.length), workdir: "/", instructions: [] });
      continue;
    }
    const stage = stages[stages.length - 1];
    if (!stage) continue;
    if (cmd === "WORKDIR") stage.workdir = path.posix.resolve(stage.workdir, args.trim());
    stage.instructions.push({ cmd, args: args.trim() });
  }
  return stages;
}

/** COPY [--from=x] [--chown=…] src… dest → { from, sources, dest } (dest absolute). */
function copies(stage: Stage) {
  return stage.instructions
    .filter((i) => i.cmd === "COPY")
    .map((i) => {
      const words = i.args.split(/\s+/);
      const from = words.find((w) => w.startsWith("--from="))?.slice("--from=".length) ?? null;
      const paths = words.filter((w) => !w.startsWith("--"));
      const dest = path.posix.resolve(stage.workdir, paths[paths.length - 1]);
      return { from, sources: paths.slice(0, -1), dest };
    });
}

/** Where `tsc -p tsconfig.build.json` (npm run build) writes each compiled file, relative to the root. */
function tscOutputs(): Map<string, string> {
  const parsed = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, "tsconfig.build.json"), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    },
  });
  if (!parsed) throw new Error("tsconfig.build.json did not parse");
  const out = new Map<string, string>();
  for (const file of parsed.fileNames) {
    const js = ts.getOutputFileNames(parsed, file, false).find((f) => f.endsWith(".js"));
    if (js) out.set(path.relative(ROOT, file), path.relative(ROOT, js));
  }
  return out;
}

const under = (file: string, dir: string) => file === dir || file.startsWith(`${dir}/`);

describe("Dockerfile", () => {
  const stages = parseDockerfile(read("Dockerfile"));
  const runtime = stages[stages.length - 1];
  const byName = new Map(stages.map((s) => [s.name, s]));
  const outputs = tscOutputs();
  // { stage, path in that stage relative to its WORKDIR } → where the runtime image puts it (relative to /app)
  const runtimeCopies = copies(runtime);
  const dockerignore = read(".dockerignore")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));

  /** The path (relative to the runtime WORKDIR) where the image holds `file` of the built project, or null. */
  function inImage(file: string): string | null {
    for (const c of runtimeCopies) {
      const stage = c.from ? byName.get(c.from) : null;
      for (const src of c.sources) {
        const rel = c.from ? path.posix.relative(stage!.workdir, path.posix.resolve(stage!.workdir, src)) : path.posix.normalize(src);
        if (under(file, rel)) {
          const dest = path.posix.join(c.sources.length > 1 || c.dest.endsWith("/") ? path.posix.join(c.dest, path.posix.basename(rel)) : c.dest, path.posix.relative(rel, file));
          return path.posix.relative(runtime.workdir, dest);
        }
      }
    }
    return null;
  }

  it("has a build stage that runs npm ci and npm run build, and a production-only dependency install", () => {
    const run = (s: Stage) => s.instructions.filter((i) => i.cmd === "RUN").map((i) => i.args).join("\n");
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const build = stages.find((s) => /npm run build/.test(run(s)));
    expect(build).toBeDefined();
    expect(run(build!)).toMatch(/npm ci\b/);
    expect(build).not.toBe(runtime);
    // The runtime's node_modules come from an `npm ci --omit=dev`, in its own stage or in the runtime one.
    const nm = runtimeCopies.find((c) => c.sources.some((s) => s.endsWith("node_modules")));
    const installer = nm?.from ? byName.get(nm.from)! : runtime;
    expect(run(installer)).toMatch(/npm ci[^\n]*--omit=dev/);
    expect(installer).not.toBe(build);
  });

  it("builds from every input npm run build reads", () => {
    const build = stages.find((s) => s.instructions.some((i) => i.cmd === "RUN" && /npm run build/.test(i.args)))!;
    const copied = copies(build).flatMap((c) => c.sources.map((s) => path.posix.normalize(s)));
    const inputs = [...new Set([...outputs.keys()].map((f) => f.split("/")[0]))];
    for (const dir of [...inputs, "tsconfig.json", "tsconfig.build.json", "scripts", "miniapp", "package.json", "package-lock.json"]) {
      expect({ dir, copied: copied.some((c) => under(dir, c)) }).toEqual({ dir, copied: true });
    }
  });

  it("puts the entry point, every migration and every file the app reads into the runtime image", () => {
    // CMD node dist/src/main.js — and main.js is where tsc puts src/main.ts.
    const cmd = runtime.instructions.filter((i) => i.cmd === "CMD").pop()!;
    const entry = (JSON.parse(cmd.args) as string[]).find((a) => a.endsWith(".js"))!;
    expect(outputs.get("src/main.ts")).toBe(entry);
    expect(inImage(entry)).toBe(entry);
    expect(inImage(outputs.get("src/cli.ts")!)).toBe(outputs.get("src/cli.ts"));

    // migrate.ts loads ../../migrations from its own compiled directory.
    const migrateDir = path.posix.dirname(outputs.get("src/db/migrate.ts")!);
    const migrationsDir = path.posix.normalize(path.posix.join(migrateDir, "../../migrations"));
    const migrations = [...outputs.entries()].filter(([src]) => src.startsWith("migrations/"));
    expect(migrations.length).toBeGreaterThanOrEqual(6);
    for (const [, js] of migrations) {
      expect(path.posix.dirname(js)).toBe(migrationsDir);
      expect(inImage(js)).toBe(js);
    }

    // Everything reached through projectPath(): templates, views, the esbuild bundles.
    const used = new Set<string>();
    for (const [src] of outputs) {
      if (!src.startsWith("src/")) continue;
      for (const m of read(src).matchAll(/projectPath\("([^"]+)"\)/g)) used.add(m[1]);
    }
    expect([...used].sort()).toEqual(expect.arrayContaining(["cards/simulator", "dist/assets", "miniapp/views"]));
    for (const p of used) expect({ p, inImage: inImage(p) }).toEqual({ p, inImage: p });
    // paths.ts finds the project root by its package.json.
    expect(inImage("package.json")).toBe("package.json");
    // dist/assets is what scripts/build-assets.js writes.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { OUT_DIR } = require("../../scripts/build-assets.js") as { OUT_DIR: string };
    expect(path.relative(ROOT, OUT_DIR)).toBe("dist/assets");

    // Sources copied from the build context exist and are not excluded by .dockerignore.
    for (const c of runtimeCopies.filter((c) => c.from === null)) {
      for (const src of c.sources) {
        expect({ src, exists: fs.existsSync(path.join(ROOT, src)) }).toEqual({ src, exists: true });
        expect(dockerignore.filter((pattern) => under(path.posix.normalize(src), pattern.replace(/\/$/, "")))).toEqual([]);
      }
    }
  });

  it("runs as a user that is not root", () => {
    const user = runtime.instructions.filter((i) => i.cmd === "USER").pop();
    expect(user).toBeDefined();
    expect(user!.args.split(":")[0]).not.toMatch(/^(root|0)$/);
    // Nothing after it switches back.
    const last = runtime.instructions.map((i) => i.cmd).lastIndexOf("USER");
    expect(runtime.instructions.slice(last + 1).filter((i) => i.cmd === "USER")).toEqual([]);
  });

  it("exposes the port the app listens on", () => {
    const env = runtime.instructions.filter((i) => i.cmd === "ENV").map((i) => i.args).join(" ");
    const port = /PORT=(\d+)/.exec(env)?.[1] ?? "3000";
    expect(runtime.instructions.filter((i) => i.cmd === "EXPOSE").map((i) => i.args)).toContain(port);
  });

  describe("probes", () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp();
    });
    afterAll(async () => t.close());

    it("health-checks a route the app serves, with node (the slim image has no curl)", async () => {
      const hc = runtime.instructions.find((i) => i.cmd === "HEALTHCHECK");
      expect(hc).toBeDefined();
      expect(hc!.args).toMatch(/CMD \["node"/);
      const probe = /'(\/[a-z/]+)'/.exec(hc!.args)?.[1];
      expect(probe).toBe("/healthz");
      expect((await request(t.callback).get(probe!)).status).toBe(200);
    });

    it("points the Kubernetes and compose probes at routes the app serves", async () => {
      const k8s = read("deploy/k8s.yaml");
      const probes = [...k8s.matchAll(/(readinessProbe|livenessProbe|startupProbe):\s*\n\s*httpGet:\s*\{\s*path:\s*(\S+),/g)].map((m) => ({ kind: m[1], path: m[2] }));
      expect(probes).toEqual(
        expect.arrayContaining([
          { kind: "readinessProbe", path: "/readyz" },
          { kind: "livenessProbe", path: "/healthz" },
        ]),
      );
      const compose = read("docker-compose.yml");
      const composePaths = [...compose.matchAll(/http:\/\/127\.0\.0\.1(\/[a-z]+)/g)].map((m) => m[1]);
      for (const p of [...probes.map((x) => x.path), ...composePaths]) {
        expect({ p, status: (await request(t.callback).get(p)).status }).toEqual({ p, status: 200 });
      }
    });
  });
});

describe("production dependencies", () => {
  const pkg = JSON.parse(read("package.json")) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
  const lock = JSON.parse(read("package-lock.json")) as { packages: Record<string, { dev?: boolean }> };
  // Required by name at run time, out of sight of an import graph: Sequelize loads its dialect's driver.
  const LOADED_BY_NAME = ["mysql2", "sqlite3"];

  /** Every package the code under dist/src and dist/migrations requires, from esbuild's import graph. */
  function requiredPackages(): string[] {
    const entries = [
      path.join(ROOT, "src/main.ts"),
      path.join(ROOT, "src/cli.ts"),
      ...fs
        .readdirSync(path.join(ROOT, "migrations"))
        .filter((f) => f.endsWith(".ts"))
        .map((f) => path.join(ROOT, "migrations", f)),
    ];
    const result = buildSync({ entryPoints: entries, bundle: true, packages: "external", platform: "node", format: "cjs", write: false, metafile: true, outdir: "/tmp/unused", logLevel: "silent" });
    const names = new Set<string>();
    for (const input of Object.values(result.metafile.inputs)) {
      for (const imp of input.imports) {
        if (!imp.external) continue;
        const spec = imp.path;
        if (spec.startsWith("node:") || builtinModules.includes(spec.split("/")[0])) continue;
        names.add(spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]);
      }
    }
    return [...names].sort();
  }

  it("lists every package the compiled code requires under dependencies, so npm ci --omit=dev installs it", () => {
    const required = [...requiredPackages(), ...LOADED_BY_NAME];
    expect(required).toEqual(expect.arrayContaining(["koa", "pino", "prom-client", "sequelize"]));
    const missing = required.filter((name) => !(name in pkg.dependencies));
    expect(missing).toEqual([]);
    // The lock file agrees: none of them (nor anything they need) is installed only for development.
    const devOnly = required.filter((name) => lock.packages[`node_modules/${name}`]?.dev === true || !lock.packages[`node_modules/${name}`]);
    expect(devOnly).toEqual([]);
  });
});

describe("docker-compose.yml and nginx", () => {
  const compose = read("docker-compose.yml");
  const nginx = read("deploy/nginx.conf");

  it("runs two app instances on one env file, after MySQL 8 and Redis 7 are healthy, behind the proxy", () => {
    expect(compose).toMatch(/image: mysql:8/);
    expect(compose).toMatch(/image: redis:7/);
    const instances = [...compose.matchAll(/^ {2}(chatorder-\d+):\n {4}<<: \*chatorder/gm)].map((m) => m[1]);
    expect(instances).toEqual(["chatorder-1", "chatorder-2"]);
    expect(compose).toMatch(/x-chatorder: &chatorder[\s\S]*env_file: deploy\/chatorder\.env/);
    expect(compose).toMatch(/mysql:\n\s+condition: service_healthy\n\s+redis:\n\s+condition: service_healthy/);
    for (const name of instances) {
      expect(nginx).toContain(`server ${name}:3000`);
      expect(compose).toMatch(new RegExp(`${name}:\\n\\s+condition: service_healthy`));
    }
    expect(compose).toMatch(/volumes:\n\s+- \.\/deploy\/nginx\.conf:/);
    expect(fs.existsSync(path.join(ROOT, "deploy/chatorder.env.example"))).toBe(true);
  });

  it("keeps /metrics off the proxy and passes the request id on", () => {
    expect(nginx).toMatch(/location = \/metrics \{\s*return 404;/);
    expect(nginx).toMatch(/proxy_set_header X-Request-Id/);
  });
});
