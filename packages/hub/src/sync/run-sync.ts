import { AppError, PermanentJobError, RetryJobError, readJson, writeJson } from '@calmhub/platform';
import { sql } from 'kysely';
import type { HubDeps } from '../app/deps.js';
import { auditSyncFinished } from '../audit/sync-audit.js';
import type { CloudAlmClient, Page } from '../connectors/cloud-alm/client.js';
import { RemoteCallError } from '../connectors/remote-call-error.js';
import { resolveCredentialForProject } from '../credentials/credentials.js';
import type { IntegrationsTable, SyncRunsTable, SyncStateTable } from '../store/tables.js';
import {
  addCounts,
  applyFeatures,
  applyStories,
  applyTransports,
  type Db,
  type ItemScope,
} from './apply-items.js';
import {
  initialCounts,
  maxOf,
  nextPhase,
  type SyncCounts,
  type SyncMode,
  type SyncPhase,
  type SyncProgress,
} from './sync-progress.js';

export type SyncDeps = Pick<
  HubDeps,
  'db' | 'clock' | 'connectors' | 'secrets' | 'config' | 'logger' | 'queue'
>;

/** Cloud ALM's task type of user stories. */
export const USER_STORY = 'CALMUS';
/** Ids per filtered link query (`parentUuid in (…)`), short enough for any URL limit. */
const CHUNK = 40;

interface RunContext {
  deps: SyncDeps;
  run: SyncRunsTable;
  mode: SyncMode;
  scope: ItemScope;
  calmProjectId: string;
  client: CloudAlmClient;
  state: SyncStateTable;
  progress: SyncProgress;
  counts: SyncCounts;
  pageSize: number;
}

/** What one step did: the writes to commit with the new progress, and how far it got. */
interface StepResult {
  cursor: string | null;
  items: number;
  write?: (trx: Db, now: number) => Promise<void>;
}

const chunks = <T>(values: T[]): T[][] =>
  Array.from({ length: Math.ceil(values.length / CHUNK) }, (_, i) =>
    values.slice(i * CHUNK, (i + 1) * CHUNK),
  );

/** `<chunk index>:<page cursor>` for link queries over many ids. */
function chunkCursor(cursor: string | null): [number, string | null] {
  if (cursor === null) return [0, null];
  const colon = cursor.indexOf(':');
  const rest = cursor.slice(colon + 1);
  return [Number(cursor.slice(0, colon)), rest === '' ? null : rest];
}

async function chunkedPage<T>(
  ids: string[],
  cursor: string | null,
  fetch: (chunk: string[], cursor: string | null) => Promise<Page<T>>,
): Promise<{ page: Page<T>; chunk: string[]; next: string | null } | undefined> {
  const all = chunks(ids);
  const [index, inner] = chunkCursor(cursor);
  const chunk = all[index];
  if (!chunk) return undefined;
  const page = await fetch(chunk, inner);
  const next = page.next !== null ? `${index}:${page.next}` : index + 1 < all.length ? `${index + 1}:` : null;
  return { page, chunk, next };
}

/** One page of the current phase. Returns undefined when the phase has nothing (left) to do. */
async function step(ctx: RunContext): Promise<StepResult | undefined> {
  const { client, progress, mode, pageSize, scope } = ctx;
  const overlap = ctx.deps.config.syncOverlapMs;
  const since = (watermark: number | null) => (watermark === null ? undefined : watermark - overlap);
  const source = mode;
  const call = () => {
    ctx.counts.calls++;
  };
  switch (progress.phase) {
    case 'code_lists': {
      call();
      const statuses = await client.codeList('FeatureStatus');
      call();
      const priorities = await client.codeList('FeaturePriorities');
      return {
        cursor: null,
        items: statuses.length + priorities.length,
        write: async (trx) => {
          await trx
            .deleteFrom('hub_calm_code_lists')
            .where('integration_id', '=', scope.integrationId)
            .execute();
          const rows = [
            ...statuses.map((c) => ({ list: 'feature_status', ...c })),
            ...priorities.map((c) => ({ list: 'feature_priority', ...c })),
          ].map((c) => ({ integration_id: scope.integrationId, ...c }));
          if (rows.length) await trx.insertInto('hub_calm_code_lists').values(rows).execute();
        },
      };
    }
    case 'features': {
      call();
      const page = await client.features(
        {
          projectId: ctx.calmProjectId,
          pageSize,
          ...(mode === 'delta' ? { modifiedAfter: since(ctx.state.features_watermark) } : {}),
          ...(mode === 'sweep' ? { idsOnly: true } : {}),
        },
        progress.cursor,
      );
      const uuids = page.items.map((f) => f.uuid);
      if (mode !== 'sweep') {
        progress.maxFeatureModifiedAt = maxOf(
          progress.maxFeatureModifiedAt,
          page.items.map((f) => f.modifiedAt),
        );
        if (mode === 'delta') progress.changedFeatures.push(...uuids);
      }
      return {
        cursor: page.next,
        items: page.items.length,
        write: async (trx, now) => {
          if (mode === 'sweep') {
            if (uuids.length)
              await trx
                .updateTable('hub_calm_features')
                .set({ synced_at: now })
                .where('integration_id', '=', scope.integrationId)
                .where('calm_uuid', 'in', uuids)
                .execute();
            return;
          }
          addCounts(ctx.counts, await applyFeatures(trx, ctx.deps.queue, scope, page.items, source, now));
        },
      };
    }
    case 'stories': {
      call();
      const page = await client.tasks(
        {
          projectId: ctx.calmProjectId,
          type: USER_STORY,
          pageSize,
          ...(mode === 'delta' ? { changedAfter: since(ctx.state.tasks_watermark) } : {}),
        },
        progress.cursor,
      );
      progress.maxStoryModifiedAt = maxOf(
        progress.maxStoryModifiedAt,
        page.items.map((t) => t.modifiedAt),
      );
      if (mode === 'delta') progress.changedStories.push(...page.items.map((t) => t.id));
      return {
        cursor: page.next,
        items: page.items.length,
        write: async (trx, now) =>
          addCounts(ctx.counts, await applyStories(trx, ctx.deps.queue, scope, page.items, source, now)),
      };
    }
    case 'assignments': {
      let page: Page<{ featureUuid: string; taskId: string }>;
      let next: string | null;
      if (mode === 'full') {
        call();
        page = await client.taskAssignments({ projectId: ctx.calmProjectId, pageSize }, progress.cursor);
        next = page.next;
      } else {
        // Links of what changed: by feature, then by story (ids tagged so one cursor walks both).
        const ids = [
          ...progress.changedFeatures.map((id) => `f${id}`),
          ...progress.changedStories.map((id) => `s${id}`),
        ];
        const result = await chunkedPage(ids, progress.cursor, (chunk, cursor) => {
          call();
          const features = chunk.filter((id) => id.startsWith('f')).map((id) => id.slice(1));
          const stories = chunk.filter((id) => id.startsWith('s')).map((id) => id.slice(1));
          return features.length > 0 && stories.length > 0
            ? client.taskAssignments({ featureUuids: features, pageSize }, cursor).then(async (byFeature) => {
                call();
                const byStory = await client.taskAssignments({ taskIds: stories, pageSize }, null);
                return { items: [...byFeature.items, ...byStory.items], next: byFeature.next };
              })
            : client.taskAssignments(
                features.length > 0 ? { featureUuids: features, pageSize } : { taskIds: stories, pageSize },
                cursor,
              );
        });
        if (!result) return undefined;
        page = result.page;
        next = result.next;
      }
      return {
        cursor: next,
        items: page.items.length,
        write: async (trx, now) => {
          // One statement per 200 links: `case calm_id when … then …` works on both engines.
          for (let i = 0; i < page.items.length; i += 200) {
            const links = page.items.slice(i, i + 200);
            await trx
              .updateTable('hub_calm_stories')
              .set({
                feature_calm_uuid: sql<string>`case calm_id ${sql.join(
                  links.map((link) => sql`when ${link.taskId} then ${link.featureUuid}`),
                  sql` `,
                )} end`,
                link_synced_at: now,
              })
              .where('integration_id', '=', scope.integrationId)
              .where(
                'calm_id',
                'in',
                links.map((link) => link.taskId),
              )
              .execute();
          }
        },
      };
    }
    case 'transport_refs': {
      let page: Page<{ featureUuid: string; transportUuid: string }>;
      let next: string | null;
      if (mode === 'full') {
        call();
        page = await client.transportReferences({ pageSize }, progress.cursor);
        next = page.next;
      } else {
        const result = await chunkedPage(progress.changedFeatures, progress.cursor, (chunk, cursor) => {
          call();
          return client.transportReferences({ featureUuids: chunk, pageSize }, cursor);
        });
        if (!result) return undefined;
        page = result.page;
        next = result.next;
      }
      return {
        cursor: next,
        items: page.items.length,
        write: async (trx, now) => {
          if (page.items.length === 0) return;
          const ours = new Set(
            (
              await trx
                .selectFrom('hub_calm_features')
                .select('calm_uuid')
                .where('integration_id', '=', scope.integrationId)
                .where('calm_uuid', 'in', [...new Set(page.items.map((r) => r.featureUuid))])
                .execute()
            ).map((row) => row.calm_uuid),
          );
          const rows = page.items
            .filter((ref) => ours.has(ref.featureUuid))
            .map((ref) => ({
              integration_id: scope.integrationId,
              feature_calm_uuid: ref.featureUuid,
              transport_calm_uuid: ref.transportUuid,
              synced_at: now,
            }));
          for (let i = 0; i < rows.length; i += 200) {
            await trx
              .insertInto('hub_calm_feature_transports')
              .values(rows.slice(i, i + 200))
              .onConflict((oc) =>
                oc
                  .columns(['integration_id', 'feature_calm_uuid', 'transport_calm_uuid'])
                  .doUpdateSet({ synced_at: now }),
              )
              .execute();
          }
        },
      };
    }
    case 'transports': {
      call();
      const page = await client.transports(
        { pageSize, ...(mode === 'delta' ? { modifiedAfter: since(ctx.state.transports_watermark) } : {}) },
        progress.cursor,
      );
      progress.maxTransportModifiedAt = maxOf(
        progress.maxTransportModifiedAt,
        page.items.map((t) => t.modifiedAt),
      );
      return {
        cursor: page.next,
        items: page.items.length,
        write: async (trx, now) => {
          ctx.counts.transports += await applyTransports(trx, scope, page.items, now);
        },
      };
    }
    case 'missing_transports': {
      // Newly referenced transports that did not change lately are not in the delta: ask by id.
      const missing = (
        await ctx.deps.db
          .selectFrom('hub_calm_feature_transports as r')
          .leftJoin('hub_calm_transports as t', (join) =>
            join
              .onRef('t.calm_uuid', '=', 'r.transport_calm_uuid')
              .onRef('t.integration_id', '=', 'r.integration_id'),
          )
          .select('r.transport_calm_uuid')
          .distinct()
          .where('r.integration_id', '=', scope.integrationId)
          .where('t.calm_uuid', 'is', null)
          .orderBy('r.transport_calm_uuid')
          .execute()
      ).map((row) => row.transport_calm_uuid);
      const [index] = chunkCursor(progress.cursor);
      const chunk = missing.slice(0, CHUNK);
      if (chunk.length === 0 || index > 0) return undefined;
      call();
      const page = await client.transports({ pageSize, uuids: chunk }, null);
      return {
        // Missing ones are asked for once per run: what Cloud ALM does not know stays missing.
        cursor: null,
        items: page.items.length,
        write: async (trx, now) => {
          ctx.counts.transports += await applyTransports(trx, scope, page.items, now);
        },
      };
    }
    case 'finalize':
      return { cursor: null, items: 0, write: (trx, now) => finalize(ctx, trx, now) };
    case 'done':
      return undefined;
  }
}

/** End of a run: obsolete what a full sync or sweep did not see, drop stale links, move watermarks. */
async function finalize(ctx: RunContext, trx: Db, now: number): Promise<void> {
  const { scope, run, progress, mode } = ctx;
  const startedAt = run.started_at ?? run.created_at;
  if (mode === 'full' || mode === 'sweep') {
    for (const table of ['hub_calm_features', 'hub_calm_stories'] as const) {
      const result = await trx
        .updateTable(table)
        .set({ obsolete: 1, obsolete_at: now })
        .where('integration_id', '=', scope.integrationId)
        .where('obsolete', '=', 0)
        .where('synced_at', '<', startedAt)
        .executeTakeFirst();
      ctx.counts.obsolete += Number(result.numUpdatedRows);
    }
  }
  if (mode === 'full') {
    await trx
      .updateTable('hub_calm_stories')
      .set({ feature_calm_uuid: null })
      .where('integration_id', '=', scope.integrationId)
      .where((eb) => eb.or([eb('link_synced_at', 'is', null), eb('link_synced_at', '<', startedAt)]))
      .execute();
    await trx
      .deleteFrom('hub_calm_feature_transports')
      .where('integration_id', '=', scope.integrationId)
      .where('synced_at', '<', startedAt)
      .execute();
  }
  if (mode === 'delta') {
    for (const ids of chunks(progress.changedFeatures)) {
      await trx
        .updateTable('hub_calm_stories')
        .set({ feature_calm_uuid: null })
        .where('integration_id', '=', scope.integrationId)
        .where('feature_calm_uuid', 'in', ids)
        .where((eb) => eb.or([eb('link_synced_at', 'is', null), eb('link_synced_at', '<', startedAt)]))
        .execute();
      await trx
        .deleteFrom('hub_calm_feature_transports')
        .where('integration_id', '=', scope.integrationId)
        .where('feature_calm_uuid', 'in', ids)
        .where('synced_at', '<', startedAt)
        .execute();
    }
    for (const ids of chunks(progress.changedStories)) {
      await trx
        .updateTable('hub_calm_stories')
        .set({ feature_calm_uuid: null })
        .where('integration_id', '=', scope.integrationId)
        .where('calm_id', 'in', ids)
        .where((eb) => eb.or([eb('link_synced_at', 'is', null), eb('link_synced_at', '<', startedAt)]))
        .execute();
    }
  }
  const keep = (current: number | null, seen: number | null) =>
    seen === null ? current : current === null ? seen : Math.max(current, seen);
  await trx
    .updateTable('hub_sync_state')
    .set({
      ...(mode === 'sweep'
        ? { last_sweep_at: now }
        : {
            features_watermark: keep(ctx.state.features_watermark, progress.maxFeatureModifiedAt),
            tasks_watermark: keep(ctx.state.tasks_watermark, progress.maxStoryModifiedAt),
            transports_watermark: keep(ctx.state.transports_watermark, progress.maxTransportModifiedAt),
            ...(mode === 'full' ? { last_full_at: now, last_delta_at: now } : { last_delta_at: now }),
          }),
    })
    .where('integration_id', '=', scope.integrationId)
    .execute();
}

async function saveRun(db: Db, runId: string, changes: Partial<SyncRunsTable>): Promise<void> {
  await db.updateTable('hub_sync_runs').set(changes).where('id', '=', runId).execute();
}

async function failRun(
  deps: SyncDeps,
  ctx: Pick<RunContext, 'run' | 'progress' | 'counts'>,
  message: string,
): Promise<void> {
  const now = deps.clock.now();
  await deps.db.transaction().execute(async (trx) => {
    await saveRun(trx, ctx.run.id, {
      state: 'failed',
      error: message,
      ended_at: now,
      progress: writeJson({ ...ctx.progress, waitingUntil: null }),
      counts: writeJson(ctx.counts),
    });
    await auditSyncFinished(trx, ctx.run, { state: 'failed', counts: ctx.counts, error: message, at: now });
  });
}

async function loadContext(deps: SyncDeps, run: SyncRunsTable): Promise<RunContext | string> {
  const integration = (await deps.db
    .selectFrom('hub_integrations')
    .selectAll()
    .where('id', '=', run.integration_id)
    .executeTakeFirst()) as IntegrationsTable | undefined;
  if (!integration) return 'The integration no longer exists';
  let credential: Awaited<ReturnType<typeof resolveCredentialForProject>>;
  try {
    credential = await resolveCredentialForProject(
      deps,
      integration.tenant_id,
      integration.project_id,
      integration.credential_id,
    );
  } catch (error) {
    return `The integration's credential cannot be used: ${(error as Error).message}`;
  }
  await deps.db
    .insertInto('hub_sync_state')
    .values({
      integration_id: integration.id,
      features_watermark: null,
      tasks_watermark: null,
      transports_watermark: null,
      last_full_at: null,
      last_delta_at: null,
      last_sweep_at: null,
    })
    .onConflict((oc) => oc.column('integration_id').doNothing())
    .execute();
  const state = await deps.db
    .selectFrom('hub_sync_state')
    .selectAll()
    .where('integration_id', '=', integration.id)
    .executeTakeFirstOrThrow();
  return {
    deps,
    run,
    mode: run.mode,
    scope: {
      tenantId: integration.tenant_id,
      projectId: integration.project_id,
      integrationId: integration.id,
    },
    calmProjectId: integration.calm_project_id,
    client: deps.connectors.cloudAlm(credential, integration.host_url),
    state,
    progress: readJson<SyncProgress>(run.progress),
    counts: { ...initialCounts(), ...readJson<Partial<SyncCounts>>(run.counts) },
    pageSize: deps.config.syncPageSize,
  };
}

/**
 * Runs (or resumes) a sync run page by page. Each page's writes commit together with the run's
 * progress, so a crash or a `Retry-After` resumes at the next page, never redoing a committed one.
 * Throttling and transient failures reschedule the job (`RetryJobError`); a run fails after
 * `syncMaxFailures` failures in a row without progress, or at once on a failure retrying cannot fix.
 */
export async function executeSyncRun(deps: SyncDeps, runId: string): Promise<void> {
  const run = await deps.db
    .selectFrom('hub_sync_runs')
    .selectAll()
    .where('id', '=', runId)
    .executeTakeFirst();
  if (!run || run.state === 'succeeded' || run.state === 'failed') return;
  const loaded = await loadContext(deps, run);
  if (typeof loaded === 'string') {
    await failRun(deps, { run, progress: readJson(run.progress), counts: readJson(run.counts) }, loaded);
    return;
  }
  const ctx = loaded;
  if (run.state !== 'running' || run.started_at === null) {
    const startedAt = run.started_at ?? deps.clock.now();
    await saveRun(deps.db, run.id, { state: 'running', started_at: startedAt });
    ctx.run = { ...run, state: 'running', started_at: startedAt };
  }
  // The next page of a phase is fetched while the current one is written: the wall time of a
  // sync is then about the remote's, not the remote's plus the store's.
  let prefetched: Promise<StepResult | undefined> | undefined;
  while (ctx.progress.phase !== 'done') {
    let result: StepResult | undefined;
    try {
      result = await (prefetched ?? step(ctx));
    } catch (error) {
      if (!(error instanceof RemoteCallError)) throw error;
      ctx.progress.failures++;
      ctx.progress.lastError = error.message;
      if (!error.retryable || ctx.progress.failures > deps.config.syncMaxFailures) {
        await failRun(deps, ctx, error.message);
        return;
      }
      const retryAt =
        error.retryAt ?? deps.clock.now() + Math.min(60_000, 1000 * 2 ** (ctx.progress.failures - 1));
      ctx.progress.waitingUntil = new Date(retryAt).toISOString();
      await saveRun(deps.db, run.id, { progress: writeJson(ctx.progress), counts: writeJson(ctx.counts) });
      throw new RetryJobError(`sync ${run.id} waits: ${error.message}`, retryAt);
    } finally {
      prefetched = undefined;
    }
    const phase: SyncPhase = ctx.progress.phase;
    const done = result === undefined || result.cursor === null;
    const progress: SyncProgress = {
      ...ctx.progress,
      phase: done ? nextPhase(ctx.mode, phase) : phase,
      cursor: done ? null : (result?.cursor ?? null),
      pages: ctx.progress.pages + (result && phase !== 'finalize' ? 1 : 0),
      items: ctx.progress.items + (result?.items ?? 0),
      failures: 0,
      waitingUntil: null,
    };
    const now = deps.clock.now();
    const written = deps.db.transaction().execute(async (trx) => {
      await result?.write?.(trx, now);
      await saveRun(trx, run.id, {
        progress: writeJson(progress),
        counts: writeJson(ctx.counts),
        ...(progress.phase === 'done' ? { state: 'succeeded', ended_at: now, error: null } : {}),
      });
      if (progress.phase === 'done')
        await auditSyncFinished(trx, ctx.run, {
          state: 'succeeded',
          counts: ctx.counts,
          error: null,
          at: now,
        });
    });
    ctx.progress = progress;
    // Only within a phase: a new phase may read what this page writes.
    if (!done) {
      prefetched = step(ctx);
      // Its failure is handled when it is awaited; until then it must not count as unhandled.
      prefetched.catch(() => {});
    }
    try {
      await written;
    } catch (error) {
      await prefetched?.catch(() => undefined);
      throw error;
    }
  }
}

/** Job handler glue: errors that are not about Cloud ALM are bugs or store trouble, retried by the queue. */
export async function syncRunJob(deps: SyncDeps, runId: string): Promise<void> {
  try {
    await executeSyncRun(deps, runId);
  } catch (error) {
    if (error instanceof RetryJobError) throw error;
    if (error instanceof AppError && error.status < 500) throw new PermanentJobError(error.message);
    throw error;
  }
}
