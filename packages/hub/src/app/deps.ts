import type {
  Config,
  HttpApp,
  JobHandler,
  JobQueue,
  Logger,
  ScheduleSpec,
  SecretBox,
  Store,
  StoreMigration,
} from '@calmhub/platform';
import type { Kysely } from 'kysely';
import type { Connectors } from '../connectors/connectors.js';
import type { HubTables } from '../store/tables.js';

export interface Clock {
  now(): number;
}

/** Everything a hub domain may depend on. Operations take a `Pick<HubDeps, ...>` of what they use. */
export interface HubDeps {
  db: Kysely<HubTables>;
  store: Store;
  queue: JobQueue;
  clock: Clock;
  logger: Logger;
  /** Seals and opens secrets at rest (credential secrets, webhook keys). */
  secrets: SecretBox;
  config: Config;
  connectors: Connectors;
  /** The base URL Cloud ALM and browsers reach the hub under (config `publicUrl`, else the listen address). */
  publicBaseUrl(): string;
}

/** One folder of the hub: its routes, job handlers and schedules, registered by build-hub from `domains.ts`. */
export interface HubDomain {
  name: string;
  migrations?: Record<string, StoreMigration>;
  routes?(app: HttpApp, deps: HubDeps): void;
  jobs?(deps: HubDeps): Record<string, JobHandler>;
  schedules?(deps: HubDeps): ScheduleSpec[];
  /**
   * Work the domain resumes once the hub serves, without waiting for a job: what a stop left
   * half done. Runs in the background; a failure is logged, and the jobs still do the work later.
   */
  resume?(deps: HubDeps): Promise<void>;
}
