import fs from "node:fs";
import path from "node:path";

/**
 * dingtalk-jsapi is published as CommonJS modules only (no browser build), and pages must not load it
 * from a CDN: this walks its require graph from an entry and wraps every module in a tiny CommonJS
 * loader, once per process, in memory. The result defines `window.dd`.
 */
export function bundleCommonJs(entryFile: string): string {
  const ids = new Map<string, number>();
  const modules: string[] = [];
  const REQUIRE = /require\(\s*["']([^"']+)["']\s*\)/g;

  function resolve(from: string, spec: string): string {
    const base = spec.startsWith(".") ? path.resolve(path.dirname(from), spec) : require.resolve(spec, { paths: [path.dirname(from)] });
    for (const candidate of [base, `${base}.js`, path.join(base, "index.js")]) {
      if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
    }
    throw new Error(`cannot resolve ${spec} from ${from}`);
  }

  function add(file: string): number {
    const known = ids.get(file);
    if (known !== undefined) return known;
    const id = modules.length;
    ids.set(file, id);
    modules.push("");
    const source = fs.readFileSync(file, "utf8");
    const deps: Record<string, number> = {};
    for (const m of source.matchAll(REQUIRE)) deps[m[1]] = add(resolve(file, m[1]));
    modules[id] = `[function(module,exports,require){${source}\n},${JSON.stringify(deps)}]`;
    return id;
  }

  add(entryFile);
  return `(function(){var defs=[${modules.join(",\n")}];var cache={};
function load(id){if(cache[id])return cache[id].exports;var m=cache[id]={exports:{}};var d=defs[id];
d[0].call(m.exports,m,m.exports,function(s){if(!(s in d[1]))throw new Error("dingtalk-jsapi bundle: "+s+" missing");return load(d[1][s]);});return m.exports;}
window.dd=load(0);})();\n`;
}

/** The bundle of the installed dingtalk-jsapi, built on first use. */
export function createJsapiBundle(): () => string {
  let built: string | null = null;
  return () => (built ??= bundleCommonJs(require.resolve("dingtalk-jsapi")));
}
