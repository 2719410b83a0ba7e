import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createHttpApp,
  createJobQueue,
  createLogger,
  createSecretBox,
  createStore,
  JobWorker,
  jobsMigrations,
  type Logger,
  type MigrationSet,
  migrateToLatest,
  pendingMigrations,
  readOrCreateKeyFile,
  type Store,
} from '@calmhub/platform';
import formbody from '@fastify/formbody';
import { registerAdminScope } from '../admin/admin-scope.js';
import { registerAdminRoutes } from '../admin/routes.js';
import {
  buildServiceKey,
  clientSecret,
  createClient,
  defaultClient,
  rotateClientSecret,
  type ServiceKey,
} from '../auth/clients.js';
import { loadSigningKeys } from '../auth/keys.js';
import { registerAuthRoutes } from '../auth/routes.js';
import type { SandboxEvent } from '../events/events.js';
import { FaultInjector, type FaultRuleInput } from '../faults/fault-injector.js';
import { registerFaultHook } from '../faults/hook.js';
import { DEFAULT_FEATURE_TRANSITIONS } from '../features/catalog.js';
import { registerFeatureRoutes } from '../features/routes.js';
import { registerProjectRoutes } from '../projects/routes.js';
import { RequestLog, useRequestLog } from '../request-log/request-log.js';
import { registerRequestLogAdmin } from '../request-log/routes.js';
import { ensureStandardData, type SeedResult, seedDemo, seedLarge } from '../seed/seed.js';
import { PersistedSettings, persistSettingsOnChange } from '../settings/persisted.js';
import { getMeta, setMeta } from '../store/meta.js';
import { sandboxMigrations } from '../store/migrations.js';
import type { SandboxTables } from '../store/tables.js';
import { registerTaskRoutes } from '../tasks/routes.js';
import { registerWebPage } from '../web/page.js';
import { registerBodyChecks } from './body-checks.js';
import type { SandboxContext, SandboxSettings } from './context.js';
import { registerMethodNotAllowed } from './method-not-allowed.js';
import { SANDBOX_MODULES } from './modules.js';

export const DEFAULT_SANDBOX_PORT = 4100;
export const DEFAULT_XSAPPNAME = 'sapcloudalm-sandbox!b16907';
export const SANDBOX_VERSION = '0.1.0';

/** Everything a sandbox database needs, in order: jobs, the Cloud ALM core, then each module. */
export const sandboxMigrationSets: MigrationSet[] = [
  jobsMigrations,
  sandboxMigrations,
  ...SANDBOX_MODULES.flatMap((module) => (module.migrations ? [module.migrations] : [])),
];

export const DEFAULT_SETTINGS: SandboxSettings = {
  pageSize: 1000,
  tokenLifetimeSeconds: 43199,
  featureTransitions: DEFAULT_FEATURE_TRANSITIONS,
  featurePatchStatus: 200,
  emitTaskDeleted: false,
};

export interface SandboxOptions {
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /** Port (default 4100; 0 picks a free one). */
  port?: number;
  /** Base URL clients use, when it differs from the listening address (proxy, container). */
  publicUrl?: string;
  /** Data directory: `<dataDir>/sandbox/` gets the SQLite file, master key, service key and admin token. */
  dataDir?: string;
  /** Keep the Cloud ALM data in memory (the service key and admin token files are still written). */
  memory?: boolean;
  /** postgres://... stores the data in PostgreSQL instead of SQLite. */
  databaseUrl?: string;
  /** An existing store (tests); migrations are applied, the caller closes it. */
  store?: Store;
  seed?: 'demo';
  seedFeatures?: number;
  seedStories?: number;
  settings?: Partial<SandboxSettings>;
  faults?: FaultRuleInput[];
  /** Fixed admin token; otherwise the one in the data directory is reused, or a new one is made. */
  adminToken?: string;
  xsappname?: string;
  logger?: Logger;
  logLevel?: string;
  /** Injectable clock (epoch ms) for token expiry tests. */
  now?: () => number;
  /** Called after each committed change event (the durable copy is in the store). */
  onEvent?: (event: SandboxEvent) => void;
  /** Called for every route as it is registered (tests enumerate the routes with it). */
  onRoute?: (route: { method: string | string[]; url: string }) => void;
}

export interface Sandbox {
  /** Base URL, e.g. http://127.0.0.1:4100 (the `uaa.url` of service keys). */
  url: string;
  /** `endpoints.Api` of service keys: `<url>/api`. */
  apiUrl: string;
  tokenUrl: string;
  adminToken: string;
  /** Service key of the default technical client (every scope, every project). */
  serviceKey: ServiceKey;
  serviceKeyPath: string | undefined;
  adminTokenPath: string | undefined;
  seeded: { demo?: SeedResult; large?: SeedResult & { projectId: string } };
  /** Endpoints of the emulated services beyond Cloud ALM, by label. */
  endpoints: Record<string, string>;
  /** Extra files the modules wrote into `<data>/sandbox/`, by file name. */
  files: Record<string, string>;
  context: SandboxContext;
  stop(): Promise<void>;
}

function sandboxDir(dataDir: string): string {
  const dir = join(dataDir, 'sandbox');
  mkdirSync(dir, { recursive: true });
  return dir;
}

function writePrivate(path: string, content: string): void {
  writeFileSync(path, content, { mode: 0o600 });
  chmodSync(path, 0o600);
}

function masterKey(options: SandboxOptions): Buffer {
  // Without a persistent store there is nothing to unseal later, so a fresh key will do.
  if (!options.dataDir || (options.memory && !options.databaseUrl)) return randomBytes(32);
  // Created 0600 and exclusively (two sandboxes starting on one data directory share one key).
  return readOrCreateKeyFile(join(sandboxDir(options.dataDir), 'master.key'));
}

function adminTokenFor(options: SandboxOptions): string {
  if (options.adminToken) return options.adminToken;
  if (options.dataDir) {
    const path = join(sandboxDir(options.dataDir), 'admin-token');
    if (existsSync(path)) {
      const existing = readFileSync(path, 'utf8').trim();
      if (/^[A-Za-z0-9_-]{32,}$/.test(existing)) return existing;
    }
  }
  return randomBytes(32).toString('base64url');
}

function openStore(options: SandboxOptions): { store: Store; owned: boolean } {
  if (options.store) return { store: options.store, owned: false };
  if (options.databaseUrl) return { store: createStore({ databaseUrl: options.databaseUrl }), owned: true };
  if (options.memory || !options.dataDir)
    return { store: createStore({ sqliteFile: ':memory:' }), owned: true };
  return {
    store: createStore({ sqliteFile: join(sandboxDir(options.dataDir), 'sandbox.sqlite') }),
    owned: true,
  };
}

/**
 * Starts a Cloud ALM sandbox: store and migrations, signing keys, the default technical client,
 * optional seed data, then the HTTP server (XSUAA token endpoint, Projects, Tasks, Features,
 * admin API, UI). Resolves once it listens.
 */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const logger = options.logger ?? createLogger(options.logLevel ?? 'info');
  const { store, owned } = openStore(options);
  try {
    await migrateToLatest(store, sandboxMigrationSets);
    const db = store.db.withTables<SandboxTables>();
    const secrets = createSecretBox(masterKey(options));
    const keys = await loadSigningKeys(db, secrets);
    await ensureStandardData(db);

    let tenantId = await getMeta(db, 'tenant_id');
    if (!tenantId) {
      tenantId = randomUUID();
      await setMeta(db, 'tenant_id', tenantId);
    }

    let publicUrl = options.publicUrl?.replace(/\/+$/, '') ?? '';
    const queue = createJobQueue(store, { leaseMs: 30_000 });
    const ctx: SandboxContext = {
      store,
      db,
      queue,
      logger,
      settings: {
        ...DEFAULT_SETTINGS,
        featureTransitions: structuredClone(DEFAULT_FEATURE_TRANSITIONS),
        ...options.settings,
      },
      now: options.now ?? Date.now,
      xsappname: options.xsappname ?? DEFAULT_XSAPPNAME,
      publicUrl: () => publicUrl,
      keys,
      secrets,
      faults: new FaultInjector(options.faults ?? []),
      requestLog: new RequestLog(options.now ?? Date.now),
      // Survives restarts, like a revocation would on XSUAA.
      tokenNotBefore: new Map(
        Object.entries(JSON.parse((await getMeta(db, 'token_not_before')) ?? '{}') as Record<string, number>),
      ),
      onEvent: options.onEvent,
    };
    // Settings, matrix and fault rules changed at runtime come back from the store; explicit start
    // options win over them for this run (and are written once something changes at runtime).
    const persistedSettings = new PersistedSettings(ctx);
    await persistedSettings.load();
    if (options.settings) Object.assign(ctx.settings, structuredClone(options.settings));
    if (options.faults) ctx.faults.replace(options.faults);
    persistedSettings.markSaved();

    const seeded: Sandbox['seeded'] = {};
    if (options.seed === 'demo') {
      seeded.demo = await seedDemo(db);
      for (const module of SANDBOX_MODULES) await module.seedDemo?.(ctx);
    }
    if (options.seedFeatures || options.seedStories) {
      seeded.large = await seedLarge(db, {
        features: options.seedFeatures ?? 0,
        stories: options.seedStories ?? 0,
      });
    }

    const adminToken = adminTokenFor(options);
    const app = await createHttpApp({
      logger,
      title: 'Cloud ALM sandbox admin API',
      version: SANDBOX_VERSION,
      description:
        'Administration of the SAP Cloud ALM sandbox: technical clients and service keys, lifecycle actions, task and transport links, change events, fault injection and settings. The emulated Cloud ALM APIs live under /api/calm-*/v1 and follow the SAP reference, not this document.',
      readiness: async () => {
        await store.ping();
        const pending = await pendingMigrations(store, sandboxMigrationSets);
        if (pending.length > 0) throw new Error(`migrations not applied: ${pending.join(', ')}`);
      },
    });
    const onRoute = options.onRoute;
    if (onRoute) app.addHook('onRoute', (route) => onRoute({ method: route.method, url: route.url }));
    await app.register(formbody);
    useRequestLog(app, ctx.requestLog);
    persistSettingsOnChange(app, persistedSettings);
    registerBodyChecks(app);
    registerFaultHook(app, ctx);
    // Before any service: its hook must reach every service's not-found handling.
    registerMethodNotAllowed(app, ctx);
    registerAuthRoutes(app, ctx);
    await registerProjectRoutes(app, ctx);
    await registerTaskRoutes(app, ctx);
    await registerFeatureRoutes(app, ctx);
    await registerAdminRoutes(app, ctx, { adminToken, tenantId });
    await registerAdminScope(app, adminToken, (scope) => registerRequestLogAdmin(scope, ctx.requestLog));
    for (const module of SANDBOX_MODULES) {
      await module.register?.(app, ctx);
      const registerAdmin = module.registerAdmin;
      if (registerAdmin) {
        await registerAdminScope(
          app,
          adminToken,
          (scope) => registerAdmin(scope, ctx),
          module.adminAccess?.(ctx),
        );
      }
    }
    registerWebPage(app);

    const listening = await app.listen({
      host: options.host ?? '127.0.0.1',
      port: options.port ?? DEFAULT_SANDBOX_PORT,
    });
    if (!publicUrl) publicUrl = listening.replace('://[::1]', '://localhost');

    for (const module of SANDBOX_MODULES) {
      for (const schedule of module.schedules?.(ctx) ?? []) await queue.defineSchedule(schedule);
    }
    const worker = new JobWorker({
      queue,
      handlers: Object.assign({}, ...SANDBOX_MODULES.map((module) => module.jobs?.(ctx) ?? {})),
      concurrency: 10,
      pollIntervalMs: 250,
      logger,
    });
    worker.start();

    let client = await defaultClient(db);
    let secret: string | undefined;
    if (!client) {
      const created = await createClient(ctx, {
        name: 'Default technical client (every scope)',
        isDefault: true,
      });
      client = created.client;
      secret = created.secret;
    } else {
      secret = (await clientSecret(ctx, client.clientId)) ?? (await rotateClientSecret(ctx, client.clientId));
    }
    const serviceKey = buildServiceKey(ctx, client, secret as string, tenantId);

    let serviceKeyPath: string | undefined;
    let adminTokenPath: string | undefined;
    if (options.dataDir) {
      const dir = sandboxDir(options.dataDir);
      serviceKeyPath = join(dir, 'service-key.json');
      adminTokenPath = join(dir, 'admin-token');
      writePrivate(serviceKeyPath, `${JSON.stringify(serviceKey, null, 2)}\n`);
      writePrivate(adminTokenPath, `${adminToken}\n`);
    }
    const files: Record<string, string> = {};
    for (const module of SANDBOX_MODULES) {
      for (const [name, content] of Object.entries((await module.files?.(ctx)) ?? {})) {
        if (!options.dataDir) continue;
        files[name] = join(sandboxDir(options.dataDir), name);
        writePrivate(files[name], content);
      }
    }
    const endpoints = Object.assign(
      {},
      ...SANDBOX_MODULES.map((module) => module.endpoints?.(publicUrl) ?? {}),
    );

    return {
      url: publicUrl,
      apiUrl: `${publicUrl}/api`,
      tokenUrl: `${publicUrl}/oauth/token`,
      adminToken,
      serviceKey,
      serviceKeyPath,
      adminTokenPath,
      seeded,
      endpoints,
      files,
      context: ctx,
      async stop() {
        await app.close();
        await worker.stop(5000);
        await queue.close();
        if (owned) await store.close();
      },
    };
  } catch (error) {
    if (owned) await store.close();
    throw error;
  }
}
