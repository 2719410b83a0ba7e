import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Config,
  closeWithin,
  createHttpApp,
  createJobQueue,
  createSecretBox,
  createStore,
  type HttpApp,
  type JobHandler,
  type JobQueue,
  JobWorker,
  type Logger,
  migrateToLatest,
  pendingMigrations,
  type Store,
} from '@calmhub/platform';
import type { Kysely } from 'kysely';
import { bootstrapFirstAdmin } from '../access/tenants.js';
import { type Connectors, createHttpConnectors } from '../connectors/connectors.js';
import { installAuth } from '../http/auth.js';
import { SqliteEdge } from '../inbox/sqlite-edge.js';
import { hubMigrationSets } from '../store/migrations.js';
import type { HubTables } from '../store/tables.js';
import { HUB_VERSION } from '../version.js';
import type { Clock, HubDeps } from './deps.js';
import { hubDomains } from './domains.js';
import { loadMasterKey } from './master-key.js';

export interface HubRoute {
  method: string;
  url: string;
  /** Status codes with a response schema (the OpenAPI document is a product surface). */
  responses: string[];
}

export interface Hub {
  app: HttpApp;
  /** Every /api/v1 route, as Fastify registered it (tests walk them all). */
  routes: HubRoute[];
  store: Store;
  queue: JobQueue;
  worker: JobWorker;
  deps: HubDeps;
  /** The first API token, when this start created the first admin (also written to `adminTokenFile`). */
  firstToken: string | undefined;
  adminTokenFile: string;
  /** Listens on the configured host/port and starts the job worker; returns the base URL. */
  start(): Promise<string>;
  stop(): Promise<void>;
}

export interface BuildHubOptions {
  config: Config;
  logger: Logger;
  /** A store made by the caller (tests); otherwise one from `config`. The hub closes it on stop. */
  store?: Store;
  clock?: Clock;
  /** Remote-system clients; HTTP ones by default. */
  connectors?: Connectors;
  /** Extra job handlers (tests). */
  handlers?: Record<string, JobHandler>;
}

export function hubSqliteFile(config: Config): string {
  return join(config.dataDir, 'calmhub.sqlite');
}

/** The composition of one hub process: store, migrations, domains (routes, jobs, schedules), worker. */
export async function buildHub(options: BuildHubOptions): Promise<Hub> {
  const { config, logger } = options;
  const clock = options.clock ?? { now: () => Date.now() };
  const secrets = createSecretBox(loadMasterKey(config));
  const store =
    options.store ??
    createStore({
      databaseUrl: config.databaseUrl,
      sqliteFile: hubSqliteFile(config),
      sqliteSynchronous: config.sqliteSynchronous,
    });
  await migrateToLatest(store, hubMigrationSets);

  const queue = createJobQueue(store, { leaseMs: config.jobLeaseMs, maxAttempts: config.jobMaxAttempts });
  let listenUrl = `http://${config.host}:${config.port}`;
  const deps: HubDeps = {
    db: store.db.withTables<HubTables>() as unknown as Kysely<HubTables>,
    store,
    queue,
    clock,
    logger,
    secrets,
    config,
    connectors:
      options.connectors ??
      createHttpConnectors({
        timeoutMs: config.outboundTimeoutMs,
        now: clock.now,
        logger,
        limits: { maxConcurrent: config.calmMaxConcurrency, ratePerSecond: config.calmRequestsPerSecond },
      }),
    publicBaseUrl: () => (config.publicUrl || listenUrl).replace(/\/+$/, ''),
  };

  const handlers: Record<string, JobHandler> = { ...options.handlers };
  for (const domain of hubDomains) Object.assign(handlers, domain.jobs?.(deps));
  const worker = new JobWorker({
    queue,
    handlers,
    concurrency: config.jobConcurrency,
    pollIntervalMs: config.jobPollIntervalMs,
    logger,
  });

  const app = await createHttpApp({
    logger,
    title: 'calmhub API',
    version: HUB_VERSION,
    description:
      'Delivery hub for SAP landscapes working with SAP Cloud ALM. Authenticate with an API token: ' +
      '`Authorization: Bearer <token>`.',
    readiness: async () => {
      await store.ping();
      const pending = await pendingMigrations(store, hubMigrationSets);
      if (pending.length > 0) throw new Error(`migrations not applied: ${pending.join(', ')}`);
    },
  });
  const routes: HubRoute[] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      if (method !== 'HEAD' && route.url.startsWith('/api/v1/'))
        routes.push({ method, url: route.url, responses: Object.keys(route.schema?.response ?? {}) });
    }
  });
  installAuth(app, deps);
  for (const domain of hubDomains) domain.routes?.(app, deps);

  const adminTokenFile = join(config.dataDir, 'admin-token');
  const firstToken = await bootstrapFirstAdmin(deps, config.adminEmail);
  if (firstToken) {
    writeFileSync(adminTokenFile, `${firstToken}\n`, { mode: 0o600 });
    logger.info(
      { adminEmail: config.adminEmail, tokenFile: adminTokenFile },
      'first start: created the admin user and an API token; the token is in the token file',
    );
  }

  return {
    app,
    routes,
    store,
    queue,
    worker,
    deps,
    firstToken,
    adminTokenFile,
    async start() {
      for (const domain of hubDomains)
        for (const schedule of domain.schedules?.(deps) ?? []) await queue.defineSchedule(schedule);
      const url = await app.listen({ host: config.host, port: config.port });
      listenUrl = url;
      worker.start();
      for (const domain of hubDomains)
        domain
          .resume?.(deps)
          .catch((error: unknown) =>
            logger.warn({ err: error, domain: domain.name }, 'resuming after a stop failed'),
          );
      return url;
    },
    async stop() {
      // Order matters: no new requests, then no new jobs, then the store they both use.
      await closeWithin(app, config.shutdownTimeoutMs);
      await worker.stop(config.shutdownTimeoutMs);
      await queue.close();
      await SqliteEdge.close(deps.db);
      await store.close();
    },
  };
}
