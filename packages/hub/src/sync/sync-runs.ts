import { randomUUID } from 'node:crypto';
import { readJson, writeJson } from '@calmhub/platform';
import type { Actor } from '../access/actor.js';
import { notFound } from '../access/authorize.js';
import { iso, isoOrNull } from '../access/views.js';
import type { HubDeps } from '../app/deps.js';
import { systemAudit, userAudit } from '../audit/record-audit.js';
import { auditSyncRequested } from '../audit/sync-audit.js';
import type { AuditContext } from '../audit/types.js';
import { loadIntegration } from '../integrations/load-integration.js';
import type { SyncRunsTable } from '../store/tables.js';
import { syncRunJob } from './jobs.js';
import {
  initialCounts,
  initialProgress,
  type SyncCounts,
  type SyncMode,
  type SyncProgress,
} from './sync-progress.js';

type Deps = Pick<HubDeps, 'db' | 'clock' | 'queue'>;

export interface SyncRunView {
  id: string;
  integrationId: string;
  mode: SyncMode;
  state: SyncRunsTable['state'];
  requestedBy: string;
  progress: Pick<SyncProgress, 'phase' | 'pages' | 'items' | 'waitingUntil' | 'lastError'>;
  counts: SyncCounts;
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
}

export function syncRunView(row: SyncRunsTable): SyncRunView {
  const progress = readJson<SyncProgress>(row.progress);
  return {
    id: row.id,
    integrationId: row.integration_id,
    mode: row.mode,
    state: row.state,
    requestedBy: row.requested_by,
    progress: {
      phase: progress.phase,
      pages: progress.pages,
      items: progress.items,
      waitingUntil: progress.waitingUntil,
      lastError: progress.lastError,
    },
    counts: { ...initialCounts(), ...readJson<Partial<SyncCounts>>(row.counts) },
    error: row.error,
    createdAt: iso(row.created_at),
    startedAt: isoOrNull(row.started_at),
    endedAt: isoOrNull(row.ended_at),
  };
}

/**
 * Queues a sync run, or returns the one of the same mode already waiting or running (a second
 * click on "Sync User Stories" joins the first). The run row and its job commit together.
 */
export async function requestSync(
  deps: Deps,
  integration: { id: string; tenant_id: string },
  mode: SyncMode,
  requestedBy: string,
  by: AuditContext = systemAudit(requestedBy),
): Promise<{ run: SyncRunView; created: boolean }> {
  return deps.db.transaction().execute(async (trx) => {
    const pending = await trx
      .selectFrom('hub_sync_runs')
      .selectAll()
      .where('integration_id', '=', integration.id)
      .where('mode', '=', mode)
      .where('state', 'in', ['queued', 'running'])
      .executeTakeFirst();
    if (pending) return { run: syncRunView(pending), created: false };
    const row: SyncRunsTable = {
      id: randomUUID(),
      tenant_id: integration.tenant_id,
      integration_id: integration.id,
      mode,
      state: 'queued',
      requested_by: requestedBy,
      progress: writeJson(initialProgress(mode)),
      counts: writeJson(initialCounts()),
      error: null,
      created_at: deps.clock.now(),
      started_at: null,
      ended_at: null,
    };
    await trx.insertInto('hub_sync_runs').values(row).execute();
    await auditSyncRequested(trx, row, by);
    await deps.queue.enqueue(syncRunJob(integration.id, row.id), trx);
    return { run: syncRunView(row), created: true };
  });
}

export async function startSync(
  deps: Deps,
  actor: Actor,
  integrationId: string,
  mode: SyncMode,
  requestId?: string,
) {
  const integration = await loadIntegration(deps.db, actor, integrationId, 'integrations.sync');
  return requestSync(deps, integration, mode, actor.userId, userAudit(actor, requestId));
}

export async function listSyncRuns(
  deps: Deps,
  actor: Actor,
  integrationId: string,
  page: { limit: number; before?: string | undefined },
): Promise<SyncRunView[]> {
  await loadIntegration(deps.db, actor, integrationId, 'integrations.read');
  let query = deps.db
    .selectFrom('hub_sync_runs')
    .selectAll()
    .where('integration_id', '=', integrationId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(page.limit);
  if (page.before) {
    const before = await deps.db
      .selectFrom('hub_sync_runs')
      .select('created_at')
      .where('id', '=', page.before)
      .executeTakeFirst();
    if (before) query = query.where('created_at', '<', before.created_at);
  }
  return (await query.execute()).map(syncRunView);
}

export async function getSyncRun(deps: Deps, actor: Actor, runId: string): Promise<SyncRunView> {
  const row = await deps.db
    .selectFrom('hub_sync_runs')
    .selectAll()
    .where('tenant_id', '=', actor.tenantId)
    .where('id', '=', runId)
    .executeTakeFirst();
  if (!row) throw notFound('sync run', runId);
  await loadIntegration(deps.db, actor, row.integration_id, 'integrations.read').catch((error: unknown) => {
    throw (error as { code?: string }).code === 'not_found' ? notFound('sync run', runId) : error;
  });
  return syncRunView(row);
}

/**
 * The reconcile tick: a delta for every enabled integration (a full sync for one never synced)
 * and, every `syncSweepIntervalMs`, an id sweep. With no webhook at all, a change in Cloud ALM is
 * seen within one period.
 */
export async function reconcile(deps: Deps & Pick<HubDeps, 'config'>): Promise<number> {
  const integrations = await deps.db
    .selectFrom('hub_integrations as i')
    .leftJoin('hub_sync_state as s', 's.integration_id', 'i.id')
    .select(['i.id', 'i.tenant_id', 's.last_full_at', 's.last_sweep_at'])
    .where('i.enabled', '=', 1)
    .execute();
  const now = deps.clock.now();
  let requested = 0;
  for (const integration of integrations) {
    const target = { id: integration.id, tenant_id: integration.tenant_id };
    const mode: SyncMode = integration.last_full_at === null ? 'full' : 'delta';
    if ((await requestSync(deps, target, mode, 'schedule')).created) requested++;
    const sweepDue =
      integration.last_full_at !== null &&
      (integration.last_sweep_at ?? integration.last_full_at) <= now - deps.config.syncSweepIntervalMs;
    if (sweepDue && (await requestSync(deps, target, 'sweep', 'schedule')).created) requested++;
  }
  return requested;
}
