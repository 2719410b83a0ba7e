import { RetryJobError } from '@calmhub/platform';
import type { HubDeps } from '../app/deps.js';
import { inTransaction, integrationAudit, recordAudit, systemAudit } from '../audit/record-audit.js';
import type { CloudAlmClient } from '../connectors/cloud-alm/client.js';
import { RemoteCallError } from '../connectors/remote-call-error.js';
import { resolveCredentialForProject } from '../credentials/credentials.js';
import type { WriteBacksTable } from '../store/tables.js';
import { batchKeyOf, type WriteBackTarget } from './actions.js';
import { carries, commentText, featureLine } from './markers.js';
import { pendingRows, startAttempt, updateRows } from './store.js';

export type FlushDeps = Pick<HubDeps, 'db' | 'clock' | 'connectors' | 'secrets' | 'logger'>;

/** Waits between attempts: 1 s, 2 s, 4 s … capped at 15 minutes (or what the remote asked for). */
const backoff = (attempts: number): number => Math.min(15 * 60_000, 1000 * 2 ** Math.max(0, attempts - 1));

const ids = (rows: WriteBacksTable[]) => rows.map((row) => row.id);

/**
 * Writes what one Cloud ALM item is owed: every pending row of its batch, together.
 *
 * Exactly once: before a write is sent, each of its rows counts an attempt (committed), so a row
 * pending with attempts > 0 is one whose last write may or may not have landed (a lost answer, a
 * crash before the rows were marked written). Such rows are first looked for by their marker in
 * what Cloud ALM holds (the task's comments, the feature's description, its references); only
 * the missing ones are written again. A description is always re-read right before its PATCH.
 */
export async function flushWriteBacks(deps: FlushDeps, target: WriteBackTarget): Promise<void> {
  const batchKey = batchKeyOf(target);
  const rows = await pendingRows(deps.db, batchKey);
  if (rows.length === 0) return;
  let client: CloudAlmClient;
  try {
    client = await clientFor(deps, target.integrationId);
  } catch (error) {
    const message = `The integration's credential cannot be used: ${(error as Error).message}`;
    await markFailed(deps, rows, message);
    return;
  }
  try {
    if (target.kind === 'story_comment') await flushComments(deps, client, target.calmId, rows);
    else if (target.kind === 'feature_line') await flushLines(deps, client, target.calmId, rows);
    else await flushReferences(deps, client, target.calmId, rows);
  } catch (error) {
    // Anything but a remote failure (the store, a bug) is retried by the queue; the rows stay pending.
    if (!(error instanceof RemoteCallError)) throw error;
    const open = (await pendingRows(deps.db, batchKey)).filter((row) => rows.some((r) => r.id === row.id));
    const now = deps.clock.now();
    if (!error.retryable) {
      await markFailed(deps, open, error.message);
      deps.logger.warn({ batchKey, err: error }, 'write-back to Cloud ALM failed');
      return;
    }
    await updateRows(deps.db, ids(open), { last_error: error.message, updated_at: now });
    const attempts = Math.max(1, ...open.map((row) => row.attempts));
    throw new RetryJobError(
      `write-back ${batchKey} waits: ${error.message}`,
      error.retryAt ?? now + backoff(attempts),
    );
  }
}

async function clientFor(deps: FlushDeps, integrationId: string): Promise<CloudAlmClient> {
  const integration = await deps.db
    .selectFrom('hub_integrations')
    .selectAll()
    .where('id', '=', integrationId)
    .executeTakeFirstOrThrow();
  const credential = await resolveCredentialForProject(
    deps,
    integration.tenant_id,
    integration.project_id,
    integration.credential_id,
  );
  return deps.connectors.cloudAlm(credential, integration.host_url);
}

/** Every write-back that lands or fails for good is in the audit log, with the row's change. */
async function auditRows(
  deps: FlushDeps,
  trx: Parameters<typeof recordAudit>[0],
  rows: WriteBacksTable[],
  kind: 'writeback.written' | 'writeback.failed',
  error: string | null,
): Promise<void> {
  if (rows.length === 0) return;
  const integration = await trx
    .selectFrom('hub_integrations')
    .select(['id', 'name'])
    .where('id', '=', (rows[0] as WriteBacksTable).integration_id)
    .executeTakeFirst();
  for (const row of rows) {
    await recordAudit(trx, {
      ...(integration ? integrationAudit(integration) : systemAudit('writeback', 'write-back')),
      tenantId: row.tenant_id,
      projectId: row.project_id,
      occurredAt: deps.clock.now(),
      kind,
      object: { kind: 'writeback', id: row.id, label: `${row.target_kind} ${row.action}` },
      before: { state: row.state },
      after: {
        state: kind === 'writeback.written' ? 'written' : 'failed',
        target: row.target_calm_id,
        marker: row.marker,
        error,
      },
      role: null,
    });
  }
}

async function markFailed(deps: FlushDeps, rows: WriteBacksTable[], message: string): Promise<void> {
  await inTransaction(deps.db, async (trx) => {
    await updateRows(trx, ids(rows), { state: 'failed', last_error: message, updated_at: deps.clock.now() });
    await auditRows(deps, trx, rows, 'writeback.failed', message);
  });
}

async function markWritten(deps: FlushDeps, rows: WriteBacksTable[], remoteId: string | null): Promise<void> {
  const now = deps.clock.now();
  await inTransaction(deps.db, async (trx) => {
    await updateRows(trx, ids(rows), {
      state: 'written',
      remote_id: remoteId,
      last_error: null,
      written_at: now,
      updated_at: now,
    });
    await auditRows(deps, trx, rows, 'writeback.written', null);
  });
}

/** One comment on the task for all open rows, each line ending in its marker. */
async function flushComments(
  deps: FlushDeps,
  client: CloudAlmClient,
  taskId: string,
  rows: WriteBacksTable[],
): Promise<void> {
  let open = rows;
  if (rows.some((row) => row.attempts > 0)) {
    const comments = await client.listComments(taskId);
    open = [];
    for (const row of rows) {
      const landed = row.attempts > 0 ? comments.find((c) => carries(c.text, row.marker)) : undefined;
      if (landed) await markWritten(deps, [row], landed.id);
      else open.push(row);
    }
  }
  if (open.length === 0) return;
  await startAttempt(deps.db, ids(open), deps.clock.now());
  const comment = await client.postComment(taskId, commentText(open));
  await markWritten(deps, open, comment.id || null);
}

/** Dated lines appended under the feature's description, re-read right before the PATCH. */
async function flushLines(
  deps: FlushDeps,
  client: CloudAlmClient,
  featureUuid: string,
  rows: WriteBacksTable[],
): Promise<void> {
  const feature = await client.getFeature(featureUuid);
  if (!feature)
    throw RemoteCallError.fromStatus(
      'cloud_alm',
      404,
      `Feature ${featureUuid} is not in Cloud ALM (any more)`,
    );
  const html = feature.description ?? '';
  const landed = rows.filter((row) => carries(html, row.marker));
  if (landed.length > 0) await markWritten(deps, landed, null);
  const open = rows.filter((row) => !landed.includes(row));
  if (open.length === 0) return;
  await startAttempt(deps.db, ids(open), deps.clock.now());
  await client.updateFeatureDescription(featureUuid, html + open.map(featureLine).join(''));
  await markWritten(deps, open, null);
}

/** The feature's external reference to each story's hub page (id: the hub story id), once. */
async function flushReferences(
  deps: FlushDeps,
  client: CloudAlmClient,
  featureUuid: string,
  rows: WriteBacksTable[],
): Promise<void> {
  const existing = await client.listExternalReferences(featureUuid);
  for (const row of rows) {
    if (existing.some((ref) => ref.id === row.item_id)) {
      await markWritten(deps, [row], row.item_id);
      continue;
    }
    await startAttempt(deps.db, [row.id], deps.clock.now());
    try {
      await client.createExternalReference({
        id: row.item_id,
        parentUuid: featureUuid,
        name: row.text,
        url: row.url ?? undefined,
      });
    } catch (error) {
      // Created by an attempt whose answer was lost, or by someone else: it is there, as wanted.
      if (!(error instanceof RemoteCallError && error.remoteStatus === 409)) throw error;
    }
    await markWritten(deps, [row], row.item_id);
  }
}
