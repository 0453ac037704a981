import type { Logger } from "pino";
import type { JobsConfig } from "../config-jobs";
import type { ServiceDeps } from "../services/deps";

/** What every scheduled job gets: the services' dependencies, its settings and a logger. */
export interface JobDeps {
  serviceDeps: ServiceDeps;
  config: JobsConfig;
  log: Logger;
}
