import type { HubDeps } from '../app/deps.js';
import { recordAudit } from '../audit/record-audit.js';
import type { AuditContext } from '../audit/types.js';
import type { CalmStoriesTable, PromotionRequestsTable } from '../store/tables.js';
import { enqueueWriteBack } from '../writeback/enqueue-write-back.js';
import { tryStartPromotion } from './promote-story.js';
import type { Db } from './run-store.js';

type Deps = Pick<HubDeps, 'db' | 'store' | 'queue' | 'clock' | 'publicBaseUrl' | 'config'>;

/**
 * A promotion Cloud ALM's lifecycle asked for (the status map), consumed in the transaction that
 * recorded it, as a user's promotion is, with the integration as the promoter: the run starts
 * (its stage-started comment says so), or the request is cancelled with its reason, audited and
 * written back (no pipeline, the story is not where the target stage follows).
 */
export async function consumePromotionRequest(
  deps: Deps,
  trx: Db,
  input: {
    request: PromotionRequestsTable;
    story: CalmStoriesTable;
    requester: { label: string; audit: AuditContext };
    /** What Cloud ALM did, for the comment: e.g. "IN_TESTING received". */
    cause: string;
  },
): Promise<'started' | 'cancelled'> {
  const { request, story, requester } = input;
  const started = await tryStartPromotion(deps, trx, {
    story,
    targetStage: request.target_stage,
    requester: { id: request.requested_by, ...requester },
    promotionRequestId: request.id,
  });
  await trx
    .updateTable('hub_promotion_requests')
    .set({ state: started.ok ? 'started' : 'cancelled' })
    .where('id', '=', request.id)
    .execute();
  if (started.ok) return 'started';
  await recordAudit(trx, {
    ...requester.audit,
    tenantId: story.tenant_id,
    projectId: story.project_id,
    occurredAt: deps.clock.now(),
    kind: 'promotion.cancelled',
    object: { kind: 'story', id: story.id, label: story.display_id ?? story.title },
    after: { targetStage: request.target_stage, promotionRequestId: request.id, reason: started.reason },
    role: null,
  });
  await enqueueWriteBack(deps, trx, {
    tenantId: story.tenant_id,
    storyId: story.id,
    action: 'promotion.requested',
    text: `calmhub: ${input.cause}; promotion into ${request.target_stage} not started: ${started.reason}.`,
  });
  return 'cancelled';
}
