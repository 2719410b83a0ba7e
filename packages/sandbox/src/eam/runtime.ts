import { TokenCache } from '@calmhub/platform';
import type { SandboxContext } from '../app/context.js';
import { getMeta } from '../store/meta.js';
import { AgentCache } from './push/agents.js';
import type { EamDb, EamExecutor } from './tables.js';

/**
 * Push-engine behaviour the reference leaves open (§7, §9: INFERRED). Kept in `eam_state`, so it
 * survives restarts; changed through `PATCH /admin/eam/settings`.
 */
export interface EamSettings {
  /** Delay before each retry, in seconds (Svix's schedule); one attempt plus one per entry. */
  retryScheduleSeconds: number[];
  /** Each delay is varied by ±this share so that failures that happened together spread out. */
  retryJitter: number;
  /** Whole-request timeout of one outbound call. */
  requestTimeoutMs: number;
  /** How much of each response body the console keeps. */
  responseExcerptChars: number;
  /** Console entries (attempts) older than this are deleted. */
  consoleRetentionDays: number;
  /** Period of the `EVENT-SITUATION.PING` refresh. */
  pingIntervalSeconds: number;
  /** Mapped `externalStatus` values after which a ticket is no longer pinged. */
  terminalExternalStatuses: string[];
  /** `#{@CLOUD_ALM_URL}`; empty = this sandbox's public URL. */
  cloudAlmUrl: string;
  /** Safety-net period of the change-stream dispatcher (commits also wake it immediately). */
  dispatchIntervalMs: number;
}

export const DEFAULT_EAM_SETTINGS: EamSettings = {
  retryScheduleSeconds: [5, 300, 1800, 7200, 18000, 36000, 36000],
  retryJitter: 0.2,
  requestTimeoutMs: 15_000,
  responseExcerptChars: 4096,
  consoleRetentionDays: 30,
  pingIntervalSeconds: 300,
  terminalExternalStatuses: ['CLOSED', 'CANCELED', 'COMPLETED', 'FAILED'],
  cloudAlmUrl: '',
  dispatchIntervalMs: 5000,
};

/** Per-sandbox state of the module: job handlers only get their payload, so they find it by tenant. */
export interface EamRuntime {
  ctx: SandboxContext;
  db: EamDb;
  tenant: string;
  settings: EamSettings;
  tokens: TokenCache;
  agents: AgentCache;
}

const runtimes = new Map<string, EamRuntime>();
const byContext = new WeakMap<SandboxContext, EamRuntime>();

export function eamDb(ctx: SandboxContext): EamDb {
  return ctx.store.db.withTables<import('./tables.js').EamAllTables>();
}

export async function loadSettings(db: EamExecutor): Promise<EamSettings> {
  const row = await db
    .selectFrom('eam_state')
    .select('value')
    .where('key', '=', 'settings')
    .executeTakeFirst();
  const stored = row ? (JSON.parse(row.value) as Partial<EamSettings>) : {};
  return { ...structuredClone(DEFAULT_EAM_SETTINGS), ...stored };
}

export async function saveSettings(db: EamExecutor, settings: EamSettings): Promise<void> {
  const value = JSON.stringify(settings);
  await db
    .insertInto('eam_state')
    .values({ key: 'settings', value })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
    .execute();
}

export async function createRuntime(ctx: SandboxContext): Promise<EamRuntime> {
  const db = eamDb(ctx);
  const tenant = (await getMeta(ctx.db, 'tenant_id')) ?? 'default';
  const runtime: EamRuntime = {
    ctx,
    db,
    tenant,
    settings: await loadSettings(db),
    tokens: new TokenCache(),
    agents: new AgentCache(),
  };
  runtimes.set(tenant, runtime);
  byContext.set(ctx, runtime);
  return runtime;
}

export function dropRuntime(runtime: EamRuntime): void {
  if (runtimes.get(runtime.tenant) === runtime) runtimes.delete(runtime.tenant);
}

export function runtimeFor(tenant: string): EamRuntime | undefined {
  return runtimes.get(tenant);
}

export function runtimeOf(ctx: SandboxContext): EamRuntime | undefined {
  return byContext.get(ctx);
}

export function cloudAlmUrl(runtime: EamRuntime): string {
  return runtime.settings.cloudAlmUrl || runtime.ctx.publicUrl();
}
