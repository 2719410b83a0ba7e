import { randomUUID } from 'node:crypto';
import { type JobContext, RetryJobError, writeJson } from '@calmhub/platform';
import type { Kysely } from 'kysely';
import type { HubDeps } from '../app/deps.js';
import { integrationAudit, recordAudit } from '../audit/record-audit.js';
import { RemoteCallError } from '../connectors/remote-call-error.js';
import { resolveCredentialForProject } from '../credentials/credentials.js';
import { consumePromotionRequest } from '../runs/consume-promotion.js';
import type { HubTables, IntegrationsTable, StatusActionsTable } from '../store/tables.js';
import { applyTransports } from '../sync/apply-items.js';
import { enqueueWriteBack } from '../writeback/enqueue-write-back.js';

type Deps = Pick<
  HubDeps,
  'db' | 'store' | 'clock' | 'secrets' | 'connectors' | 'queue' | 'publicBaseUrl' | 'logger' | 'config'
>;

export type StatusAction = StatusActionsTable['action'];

export interface StatusActionRule {
  statusCode: string;
  action: StatusAction;
  /** For `promote`: the pipeline stage the stories are requested into. */
  targetStage: string | null;
  enabled: boolean;
}

/**
 * The seed's defaults: Start Implementation checks the transports (the guard), Handover to Test
 * requests promotion to the test stage (the only status that auto-promotes by default), Ready for
 * Production's promotion is there but off. Any other transition is recorded and written back.
 */
export const DEFAULT_STATUS_ACTIONS: StatusActionRule[] = [
  { statusCode: 'IN_REALIZATION', action: 'guard', targetStage: null, enabled: true },
  { statusCode: 'IN_TESTING', action: 'promote', targetStage: 'test', enabled: true },
  { statusCode: 'APPROVED_FOR_DEPLOYMENT', action: 'promote', targetStage: 'production', enabled: false },
];

export async function statusActionsOf(
  db: Kysely<HubTables>,
  integrationId: string,
): Promise<StatusActionRule[]> {
  const rows = await db
    .selectFrom('hub_status_actions')
    .selectAll()
    .where('integration_id', '=', integrationId)
    .execute();
  if (rows.length === 0) return DEFAULT_STATUS_ACTIONS.map((rule) => ({ ...rule }));
  return rows
    .filter((row) => row.status_code !== CONFIGURED)
    .map((row) => ({
      statusCode: row.status_code,
      action: row.action,
      targetStage: row.target_stage,
      enabled: row.enabled === 1,
    }));
}

/** Stored with every saved map, so an empty map stays empty instead of falling back to the defaults. */
export const CONFIGURED = '*';

const RELEASED = /^(released|exported|r)$/i;

export interface GuardOutcome {
  storyId: string;
  calmId: string;
  title: string;
  passed: boolean;
  missing: Array<{ kind: 'no_transport' } | { kind: 'not_released'; transport: string; status: string }>;
}

/** Transports of the feature as Cloud ALM lists them now (the guard refreshes before it judges). */
export async function refreshFeatureTransports(
  deps: Deps,
  integration: IntegrationsTable,
  featureUuid: string,
): Promise<void> {
  const credential = await resolveCredentialForProject(
    deps,
    integration.tenant_id,
    integration.project_id,
    integration.credential_id,
  );
  const client = deps.connectors.cloudAlm(credential, integration.host_url);
  const refs = await client.transportReferences({ featureUuids: [featureUuid], pageSize: 200 }, null);
  const uuids = [...new Set(refs.items.map((r) => r.transportUuid))];
  const transports = uuids.length ? (await client.transports({ uuids, pageSize: 200 }, null)).items : [];
  const now = deps.clock.now();
  await deps.db.transaction().execute(async (trx) => {
    for (const ref of refs.items) {
      await trx
        .insertInto('hub_calm_feature_transports')
        .values({
          integration_id: integration.id,
          feature_calm_uuid: featureUuid,
          transport_calm_uuid: ref.transportUuid,
          synced_at: now,
        })
        .onConflict((oc) =>
          oc
            .columns(['integration_id', 'feature_calm_uuid', 'transport_calm_uuid'])
            .doUpdateSet({ synced_at: now }),
        )
        .execute();
    }
    await applyTransports(
      trx,
      { tenantId: integration.tenant_id, projectId: integration.project_id, integrationId: integration.id },
      transports,
      now,
    );
  });
}

/**
 * What keeps a story's transports from counting as released: none attached, or one whose status
 * (Cloud ALM's when synced, else the component's) is not released.
 */
export async function unreleasedTransports(
  db: Kysely<HubTables>,
  integrationId: string,
  storyId: string,
): Promise<GuardOutcome['missing']> {
  const components = await db
    .selectFrom('hub_story_components')
    .select(['transport_id', 'details'])
    .where('story_id', '=', storyId)
    .where('kind', '=', 'abap_transport')
    .where('detached_at', 'is', null)
    .execute();
  const missing: GuardOutcome['missing'] = [];
  if (components.length === 0) missing.push({ kind: 'no_transport' });
  for (const component of components) {
    const number = component.transport_id as string;
    const calm = await db
      .selectFrom('hub_calm_transports')
      .select('status')
      .where('integration_id', '=', integrationId)
      .where('transport_id', '=', number)
      .executeTakeFirst();
    const status = calm?.status ?? (JSON.parse(component.details) as { status?: string }).status ?? 'unknown';
    if (!RELEASED.test(status)) missing.push({ kind: 'not_released', transport: number, status });
  }
  return missing;
}

/** Start Implementation's guard: every story of the feature has a transport, and all are released. */
async function checkGuard(
  deps: Deps,
  integration: IntegrationsTable,
  featureUuid: string,
): Promise<GuardOutcome[]> {
  await refreshFeatureTransports(deps, integration, featureUuid);
  const stories = await deps.db
    .selectFrom('hub_calm_stories')
    .select(['id', 'calm_id', 'title'])
    .where('integration_id', '=', integration.id)
    .where('feature_calm_uuid', '=', featureUuid)
    .where('obsolete', '=', 0)
    .orderBy('calm_id')
    .execute();
  const outcomes: GuardOutcome[] = [];
  for (const story of stories) {
    const missing = await unreleasedTransports(deps.db, integration.id, story.id);
    outcomes.push({
      storyId: story.id,
      calmId: story.calm_id,
      title: story.title,
      passed: missing.length === 0,
      missing,
    });
  }
  return outcomes;
}

function guardText(outcome: GuardOutcome): string {
  if (outcome.passed)
    return 'calmhub: Start Implementation check passed: every transport of this story is released.';
  const parts = outcome.missing.map((m) =>
    m.kind === 'no_transport'
      ? 'no transport is attached'
      : `transport ${m.transport} is not released (status ${m.status})`,
  );
  return `calmhub: Start Implementation check failed: ${parts.join('; ')}.`;
}

/**
 * Acts on one recorded transition, whichever path recorded it (webhook, delta, sweep): the
 * integration's status → action map says what to do. Runs as a job deduplicated per transition,
 * and its writes are idempotent (guard and promotion rows are unique per transition; the plain echo
 * commits with the job's step memo), so it acts once even when retried after a crash.
 */
export async function actOnTransition(
  deps: Deps,
  transitionId: number,
  job?: Pick<JobContext, 'transactionalStep'>,
): Promise<void> {
  const transition = await deps.db
    .selectFrom('hub_status_transitions')
    .selectAll()
    .where('id', '=', transitionId)
    .executeTakeFirst();
  if (transition?.item_kind !== 'feature') return;
  const integration = await deps.db
    .selectFrom('hub_integrations')
    .selectAll()
    .where('id', '=', transition.integration_id)
    .executeTakeFirst();
  if (integration?.enabled !== 1) return;
  const rules = await statusActionsOf(deps.db, integration.id);
  const rule = rules.find((r) => r.statusCode === transition.to_status && r.enabled);
  const actor = integrationAudit({ id: integration.id, name: integration.name });
  const now = deps.clock.now();
  const audit = (
    trx: Kysely<HubTables>,
    kind: 'action.guard_passed' | 'action.guard_failed' | 'promotion.requested' | 'transition.recorded',
    object: { kind: string; id: string; label?: string },
    after: unknown,
  ) =>
    recordAudit(trx, {
      ...actor,
      tenantId: integration.tenant_id,
      projectId: integration.project_id,
      occurredAt: now,
      kind,
      object,
      after,
      role: null,
    });

  if (rule?.action === 'guard') {
    let outcomes: GuardOutcome[];
    try {
      outcomes = await checkGuard(deps, integration, transition.calm_id);
    } catch (error) {
      if (error instanceof RemoteCallError && error.retryable)
        throw new RetryJobError(error.message, error.retryAt);
      throw error;
    }
    await deps.db.transaction().execute(async (trx) => {
      for (const outcome of outcomes) {
        const inserted = await trx
          .insertInto('hub_story_guards')
          .values({
            story_id: outcome.storyId,
            transition_id: transition.id,
            tenant_id: integration.tenant_id,
            passed: outcome.passed ? 1 : 0,
            missing: writeJson(outcome.missing),
            checked_at: now,
          })
          .onConflict((oc) => oc.columns(['story_id', 'transition_id']).doNothing())
          .returning('story_id')
          .executeTakeFirst();
        if (!inserted) continue;
        await audit(
          trx,
          outcome.passed ? 'action.guard_passed' : 'action.guard_failed',
          { kind: 'story', id: outcome.storyId, label: outcome.title },
          { missing: outcome.missing },
        );
        await enqueueWriteBack(deps, trx, {
          tenantId: integration.tenant_id,
          storyId: outcome.storyId,
          action: outcome.passed ? 'guard.passed' : 'guard.failed',
          text: guardText(outcome),
        });
      }
    });
    return;
  }

  if (rule?.action === 'promote' && rule.targetStage) {
    const stage = rule.targetStage;
    const stories = await deps.db
      .selectFrom('hub_calm_stories')
      .selectAll()
      .where('integration_id', '=', integration.id)
      .where('feature_calm_uuid', '=', transition.calm_id)
      .where('obsolete', '=', 0)
      .orderBy('calm_id')
      .execute();
    await deps.db.transaction().execute(async (trx) => {
      for (const story of stories) {
        const inserted = await trx
          .insertInto('hub_promotion_requests')
          .values({
            id: randomUUID(),
            tenant_id: integration.tenant_id,
            project_id: integration.project_id,
            story_id: story.id,
            target_stage: stage,
            transition_id: transition.id,
            requested_by: `integration:${integration.id}`,
            state: 'requested',
            created_at: now,
          })
          .onConflict((oc) => oc.columns(['story_id', 'transition_id', 'target_stage']).doNothing())
          .returningAll()
          .executeTakeFirst();
        if (!inserted) continue;
        await audit(
          trx,
          'promotion.requested',
          { kind: 'story', id: story.id, label: story.title },
          { targetStage: stage, transitionId: transition.id, promotionRequestId: inserted.id },
        );
        // Started at once, in this transaction: its stage-started comment is the one Cloud ALM sees.
        await consumePromotionRequest(deps, trx, {
          request: inserted,
          story,
          requester: { label: integration.name, audit: actor },
          cause: `${transition.to_status} received`,
        });
      }
    });
    return;
  }

  // Any other transition: recorded (already) and written back on the feature's stories, no action.
  const stories = await deps.db
    .selectFrom('hub_calm_stories')
    .select(['id'])
    .where('integration_id', '=', integration.id)
    .where('feature_calm_uuid', '=', transition.calm_id)
    .where('obsolete', '=', 0)
    .execute();
  // Nothing unique marks the echo as done: it commits with the job's step memo, so a job re-run
  // after a crash between this commit and the job's completion does not echo twice.
  const echo = async (trx: Kysely<HubTables>) => {
    await audit(
      trx,
      'transition.recorded',
      { kind: 'feature', id: transition.item_id },
      { from: transition.from_status, to: transition.to_status, source: transition.source },
    );
    for (const story of stories) {
      await enqueueWriteBack(deps, trx, {
        tenantId: integration.tenant_id,
        storyId: story.id,
        action: 'status.changed',
        text: `calmhub: feature status ${transition.from_status ?? '-'} → ${transition.to_status} seen (${transition.source}); no action configured.`,
      });
    }
  };
  if (job) await job.transactionalStep('echo', (trx) => echo(trx as unknown as Kysely<HubTables>));
  else await deps.db.transaction().execute(echo);
}
