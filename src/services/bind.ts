import type { ServiceDeps } from "./deps";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type UseCase = (deps: ServiceDeps, ...args: any[]) => any;
type Bound<F> = F extends (deps: ServiceDeps, ...args: infer A) => infer R ? (...args: A) => R : never;

/** Binds `deps` as the first argument of every use case. */
export function bindDeps<T extends Record<string, UseCase>>(deps: ServiceDeps, fns: T): { [K in keyof T]: Bound<T[K]> } {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(fns)) out[name] = (...args: unknown[]) => fn(deps, ...args);
  return out as { [K in keyof T]: Bound<T[K]> };
}
