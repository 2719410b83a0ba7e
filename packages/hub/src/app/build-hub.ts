import { join } from 'node:path';
import {
  type Config,
  closeWithin,
  createHttpApp,
  createJobQueue,
  createStore,
  type HttpApp,
  type JobHandler,
  JobWorker,
  type Logger,
  migrateToLatest,
  pendingMigrations,
  type Store,
} from '@calmhub/platform';
import { hubMigrationSets } from '../store/migrations.js';
import { HUB_VERSION } from '../version.js';

export interface Hub {
  app: HttpApp;
  store: Store;
  worker: JobWorker;
  /** Listens on the configured host/port and starts the job worker; returns the base URL. */
  start(): Promise<string>;
  stop(): Promise<void>;
}

export interface BuildHubOptions {
  config: Config;
  logger: Logger;
  /** Job handlers contributed by the hub's domains. */
  handlers?: Record<string, JobHandler>;
}

export function hubSqliteFile(config: Config): string {
  return join(config.dataDir, 'calmhub.sqlite');
}

/** The composition of one hub process: store, migrations, HTTP API and job worker. */
export async function buildHub({ config, logger, handlers = {} }: BuildHubOptions): Promise<Hub> {
  const store = createStore({
    databaseUrl: config.databaseUrl,
    sqliteFile: hubSqliteFile(config),
    sqliteSynchronous: config.sqliteSynchronous,
  });
  await migrateToLatest(store, hubMigrationSets);

  const queue = createJobQueue(store, { leaseMs: config.jobLeaseMs, maxAttempts: config.jobMaxAttempts });
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
    description: 'Delivery hub for SAP landscapes working with SAP Cloud ALM.',
    readiness: async () => {
      await store.ping();
      const pending = await pendingMigrations(store, hubMigrationSets);
      if (pending.length > 0) throw new Error(`migrations not applied: ${pending.join(', ')}`);
    },
  });

  return {
    app,
    store,
    worker,
    async start() {
      const url = await app.listen({ host: config.host, port: config.port });
      worker.start();
      return url;
    },
    async stop() {
      // Order matters: no new requests, then no new jobs, then the store they both use.
      await closeWithin(app, config.shutdownTimeoutMs);
      await worker.stop(config.shutdownTimeoutMs);
      await queue.close();
      await store.close();
    },
  };
}
