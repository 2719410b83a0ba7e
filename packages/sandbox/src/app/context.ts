import type { KeyObject } from 'node:crypto';
import type { JobQueue, Logger, SecretBox, Store } from '@calmhub/platform';
import type { FaultInjector } from '../faults/fault-injector.js';
import type { RequestLog } from '../request-log/request-log.js';
import type { SandboxDb } from '../store/tables.js';

/** Behaviour the reference marks INFERRED: adjustable at start and through the admin API. */
export interface SandboxSettings {
  /** Server-driven paging: OData lists return at most this many rows and an `@nextLink`. */
  pageSize: number;
  /** Lifetime of issued access tokens; XSUAA's default is 43199 s (12 h). */
  tokenLifetimeSeconds: number;
  /** Allowed feature `statusCode` moves: from -> list of targets. */
  featureTransitions: Record<string, string[]>;
  /**
   * Statuses `POST /Features` may set in `statusCode` (default `['CREATED']`, see
   * DEFAULT_FEATURE_CREATE_STATUSES); optional so callers' settings objects stay valid without it.
   */
  featureCreateStatuses?: string[] | undefined;
  /** Answer of `PATCH /Features/{uuid}`: 200 with the entity (default) or 204 without a body. */
  featurePatchStatus: 200 | 204;
  /** Publish `TASK.DELETED` events (never seen on a real tenant, so off by default). */
  emitTaskDeleted: boolean;
}

export interface SigningKeys {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicJwk: Record<string, unknown>;
}

/** Everything a route or service needs; one per running sandbox. */
export interface SandboxContext {
  store: Store;
  db: SandboxDb;
  /** Durable jobs (pushes, imports, deployments) run by the sandbox's worker. */
  queue: JobQueue;
  logger: Logger;
  settings: SandboxSettings;
  now: () => number;
  /** The master application name that prefixes every scope (`<xsappname>.calm-api.tasks.read`). */
  xsappname: string;
  /** Base URL clients reach the sandbox on (known once listening). */
  publicUrl: () => string;
  keys: SigningKeys;
  secrets: SecretBox;
  faults: FaultInjector;
  /** Calls per method and route since the last reset (`/admin/request-log`), in memory. */
  requestLog: RequestLog;
  /** Tokens issued before these instants (epoch ms) are treated as expired; `*` for all clients. */
  tokenNotBefore: Map<string, number>;
  /** Called after every committed change event; the durable copy is in `sandbox_events`. */
  onEvent?: ((event: import('../events/events.js').SandboxEvent) => void) | undefined;
}
