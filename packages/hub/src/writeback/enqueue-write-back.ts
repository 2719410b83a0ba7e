import { randomUUID } from 'node:crypto';
import type { HubDeps } from '../app/deps.js';
import type { CalmStoriesTable, WriteBacksTable, WriteBackTargetKind } from '../store/tables.js';
import { batchKeyOf, FEATURE_LEVEL, type WriteBackAction, type WriteBackTarget } from './actions.js';
import { flushWriteBacksJob } from './jobs.js';
import { newMarker, referenceMarker } from './markers.js';
import { type Db, switchesOf } from './store.js';

export type EnqueueDeps = Pick<HubDeps, 'queue' | 'clock' | 'publicBaseUrl' | 'config'>;

export interface WriteBackInput {
  tenantId: string;
  /** The hub id of the story the action is about. */
  storyId: string;
  action: WriteBackAction;
  /** One readable sentence, e.g. "calmhub: transport S4DK900121 attached by dev@example.com". */
  text: string;
  /** Also a dated line under the feature's description; default `FEATURE_LEVEL[action]`. */
  featureLine?: boolean;
}

export type WriteBackEnqueued =
  | { outcome: 'queued'; writes: Array<{ id: string; target: WriteBackTargetKind; marker: string }> }
  | { outcome: 'skipped'; reason: 'no_story' | 'story_obsolete' | 'integration_disabled' | 'switched_off' };

/**
 * Records what Cloud ALM should be told about an action, inside the caller's transaction: the
 * outbox rows (a comment on the story; a line under its feature's description for feature-level
 * actions; the feature's external reference to the story's hub page, once per feature and story)
 * and a flush job per target, due after a short batching window. Nothing is written when the
 * integration is disabled or the action's kind or the target's kind is switched off.
 */
export async function enqueueWriteBack(
  deps: EnqueueDeps,
  trx: Db,
  input: WriteBackInput,
): Promise<WriteBackEnqueued> {
  const story = await trx
    .selectFrom('hub_calm_stories')
    .selectAll()
    .where('tenant_id', '=', input.tenantId)
    .where('id', '=', input.storyId)
    .executeTakeFirst();
  return enqueueFor(deps, trx, story, input);
}

/** Like `enqueueWriteBack`, for a story named by its Cloud ALM task id (webhooks and transitions carry those). */
export async function enqueueWriteBackByCalmId(
  deps: EnqueueDeps,
  trx: Db,
  input: Omit<WriteBackInput, 'storyId' | 'tenantId'> & { integrationId: string; calmId: string },
): Promise<WriteBackEnqueued> {
  const story = await trx
    .selectFrom('hub_calm_stories')
    .selectAll()
    .where('integration_id', '=', input.integrationId)
    .where('calm_id', '=', input.calmId.toLowerCase())
    .executeTakeFirst();
  return enqueueFor(deps, trx, story, {
    ...input,
    tenantId: story?.tenant_id ?? '',
    storyId: story?.id ?? '',
  });
}

async function enqueueFor(
  deps: EnqueueDeps,
  trx: Db,
  story: CalmStoriesTable | undefined,
  input: WriteBackInput,
): Promise<WriteBackEnqueued> {
  if (!story) return { outcome: 'skipped', reason: 'no_story' };
  if (story.obsolete === 1) return { outcome: 'skipped', reason: 'story_obsolete' };
  const integration = await trx
    .selectFrom('hub_integrations')
    .select('enabled')
    .where('id', '=', story.integration_id)
    .executeTakeFirst();
  if (integration?.enabled !== 1) return { outcome: 'skipped', reason: 'integration_disabled' };
  const on = await switchesOf(trx, story.integration_id);
  if (!on[input.action]) return { outcome: 'skipped', reason: 'switched_off' };

  const now = deps.clock.now();
  const feature = story.feature_calm_uuid;
  const wanted: Array<Pick<WriteBacksTable, 'target_kind' | 'target_calm_id' | 'marker' | 'text' | 'url'>> =
    [];
  if (on.story_comment)
    wanted.push({
      target_kind: 'story_comment',
      target_calm_id: story.calm_id,
      marker: newMarker(),
      text: input.text,
      url: null,
    });
  if (feature && on.feature_line && (input.featureLine ?? FEATURE_LEVEL[input.action]))
    wanted.push({
      target_kind: 'feature_line',
      target_calm_id: feature,
      marker: newMarker(),
      text: input.text,
      url: null,
    });
  if (feature && on.feature_reference)
    wanted.push({
      target_kind: 'feature_reference',
      target_calm_id: feature,
      marker: referenceMarker(feature, story.id),
      text: `calmhub: ${[story.display_id, story.title].filter(Boolean).join(' ')}`.slice(0, 255),
      url: `${deps.publicBaseUrl()}/stories/${story.id}`,
    });

  const writes: Array<{ id: string; target: WriteBackTargetKind; marker: string }> = [];
  for (const write of wanted) {
    const target: WriteBackTarget = {
      integrationId: story.integration_id,
      kind: write.target_kind,
      calmId: write.target_calm_id,
    };
    const id = randomUUID();
    const inserted = await trx
      .insertInto('hub_writebacks')
      .values({
        ...write,
        id,
        tenant_id: story.tenant_id,
        project_id: story.project_id,
        integration_id: story.integration_id,
        item_id: story.id,
        action: input.action,
        batch_key: batchKeyOf(target),
        state: 'pending',
        attempts: 0,
        last_error: null,
        remote_id: null,
        created_at: now,
        updated_at: now,
        written_at: null,
      })
      // A (feature, story) reference is owed once: its marker is fixed, a second insert is a no-op.
      .onConflict((oc) => oc.column('marker').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!inserted) continue;
    writes.push({ id, target: write.target_kind, marker: write.marker });
    // The story's comment goes first; the feature's lines and references wait longer and gather
    // a whole stage into one PATCH, off the path a user watches.
    const window =
      write.target_kind === 'story_comment'
        ? deps.config.writebackBatchWindowMs
        : Math.max(deps.config.writebackBatchWindowMs, deps.config.writebackFeatureBatchWindowMs);
    await deps.queue.enqueue(flushWriteBacksJob(target, now + window), trx);
  }
  return { outcome: 'queued', writes };
}
