import fs from "node:fs";
import path from "node:path";

/** The project root (where package.json is), from src/ when run with ts and from dist/src/ when built. */
function findRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    if (fs.existsSync(path.join(dir, "package.json"))) return dir;
    dir = path.dirname(dir);
  }
  return process.cwd();
}

const ROOT = findRoot();

/** An absolute path to a project file such as cards/simulator or miniapp/views. */
export function projectPath(relative: string): string {
  return path.join(ROOT, relative);
}
