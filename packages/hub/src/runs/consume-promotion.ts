import { AppError } from '@calmhub/platform';
import type { HubDeps } from '../app/deps.js';
import { integrationAudit, recordAudit } from '../audit/record-audit.js';
import { enqueueWriteBack } from '../writeback/enqueue-write-back.js';
import { startPromotion } from './promote-story.js';

type Deps = Pick<HubDeps, 'db' | 'store' | 'queue' | 'clock' | 'publicBaseUrl' | 'config'>;

/**
 * A promotion Cloud ALM's lifecycle asked for (Hub III's status map) is consumed as a user's
 * promotion is, with the integration as the promoter. One that cannot start (no pipeline, the
 * story is not where the target stage follows) is cancelled with its reason, audited and written back.
 */
export async function consumePromotionRequest(deps: Deps, requestId: string): Promise<void> {
  const request = await deps.db
    .selectFrom('hub_promotion_requests')
    .selectAll()
    .where('id', '=', requestId)
    .executeTakeFirst();
  if (request?.state !== 'requested') return;
  const story = await deps.db
    .selectFrom('hub_calm_stories')
    .selectAll()
    .where('id', '=', request.story_id)
    .executeTakeFirst();
  const integration = story
    ? await deps.db
        .selectFrom('hub_integrations')
        .select(['id', 'name'])
        .where('id', '=', story.integration_id)
        .executeTakeFirst()
    : undefined;
  if (!story || !integration) {
    await deps.db
      .updateTable('hub_promotion_requests')
      .set({ state: 'cancelled' })
      .where('id', '=', requestId)
      .execute();
    return;
  }
  const requester = {
    id: request.requested_by,
    label: integration.name,
    audit: integrationAudit(integration),
  };
  try {
    await deps.db.transaction().execute(async (trx) => {
      const claimed = await trx
        .updateTable('hub_promotion_requests')
        .set({ state: 'started' })
        .where('id', '=', requestId)
        .where('state', '=', 'requested')
        .executeTakeFirst();
      if (Number(claimed.numUpdatedRows) === 0) return;
      await startPromotion(deps, trx, {
        story,
        targetStage: request.target_stage,
        requester,
        promotionRequestId: request.id,
      });
    });
  } catch (error) {
    if (!(error instanceof AppError) || error.code !== 'conflict') throw error;
    await deps.db.transaction().execute(async (trx) => {
      const cancelled = await trx
        .updateTable('hub_promotion_requests')
        .set({ state: 'cancelled' })
        .where('id', '=', requestId)
        .where('state', '=', 'requested')
        .executeTakeFirst();
      if (Number(cancelled.numUpdatedRows) === 0) return;
      await recordAudit(trx, {
        ...requester.audit,
        tenantId: story.tenant_id,
        projectId: story.project_id,
        occurredAt: deps.clock.now(),
        kind: 'promotion.cancelled',
        object: { kind: 'story', id: story.id, label: story.display_id ?? story.title },
        after: { targetStage: request.target_stage, reason: error.message },
        role: null,
      });
      await enqueueWriteBack(deps, trx, {
        tenantId: story.tenant_id,
        storyId: story.id,
        action: 'stage.failed',
        text: `calmhub: promotion into ${request.target_stage} not started: ${error.message}.`,
      });
    });
  }
}
