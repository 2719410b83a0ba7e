import type { Kysely } from 'kysely';
import type { HubTables, SyncRunsTable } from '../store/tables.js';
import { recordAudit, systemAudit } from './record-audit.js';
import type { AuditContext } from './types.js';

/** The sync job, when a run ends. */
export const SYNC_JOB_AUDIT: AuditContext = systemAudit('sync', 'sync job');

async function runObject(db: Kysely<HubTables>, run: SyncRunsTable) {
  const integration = await db
    .selectFrom('hub_integrations')
    .select(['project_id', 'name'])
    .where('id', '=', run.integration_id)
    .executeTakeFirst();
  return {
    projectId: integration?.project_id ?? null,
    object: {
      kind: 'sync_run',
      id: run.id,
      label: `${run.mode} sync of ${integration?.name ?? run.integration_id}`,
    },
  };
}

/**
 * A sync run was queued by a user over the API. Call in the run's transaction. The reconcile's own
 * runs (every minute per integration) are audited only when they change something, see below.
 */
export async function auditSyncRequested(
  db: Kysely<HubTables>,
  run: SyncRunsTable,
  by: AuditContext,
): Promise<void> {
  if (run.requested_by === 'schedule') return;
  await recordAudit(db, {
    ...by,
    ...(await runObject(db, run)),
    tenantId: run.tenant_id,
    occurredAt: run.created_at,
    kind: 'sync.requested',
    after: { integrationId: run.integration_id, mode: run.mode, state: run.state },
  });
}

/** A sync run ended (succeeded or failed), with its counts. Call in the transaction that ends it. */
export async function auditSyncFinished(
  db: Kysely<HubTables>,
  run: SyncRunsTable,
  end: { state: 'succeeded' | 'failed'; counts: unknown; error: string | null; at: number },
): Promise<void> {
  const counts = (end.counts ?? {}) as Record<string, number>;
  const changed = ['created', 'updated', 'obsolete', 'transitions'].some((key) => (counts[key] ?? 0) > 0);
  // A scheduled delta that found nothing changed nothing: no entry, or the log fills with noise.
  if (run.requested_by === 'schedule' && end.state === 'succeeded' && !changed) return;
  await recordAudit(db, {
    ...SYNC_JOB_AUDIT,
    ...(await runObject(db, run)),
    tenantId: run.tenant_id,
    occurredAt: end.at,
    kind: 'sync.finished',
    before: { state: run.state },
    after: {
      integrationId: run.integration_id,
      mode: run.mode,
      state: end.state,
      counts: end.counts,
      error: end.error,
      requestedBy: run.requested_by,
    },
  });
}
