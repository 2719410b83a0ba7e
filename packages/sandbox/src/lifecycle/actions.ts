import type { SandboxContext } from '../app/context.js';
import { type Feature, toFeature } from '../features/entities.js';
import { featureRow, updateFeature } from '../features/service.js';
import { CalmError, notFound } from '../shared/errors.js';

/** A button of the Cloud ALM feature UI: a named status move (reference §4.4). */
export interface LifecycleAction {
  id: string;
  label: string;
  from: readonly string[];
  to: string;
}

export const LIFECYCLE_ACTIONS: readonly LifecycleAction[] = [
  { id: 'start-implementation', label: 'Start Implementation', from: ['CREATED'], to: 'IN_REALIZATION' },
  { id: 'handover-to-test', label: 'Handover to Test', from: ['IN_REALIZATION'], to: 'IN_TESTING' },
  {
    id: 'back-to-implementation',
    label: 'Back to Implementation',
    from: ['IN_TESTING'],
    to: 'IN_REALIZATION',
  },
  {
    id: 'confirm-successful-test',
    label: 'Confirm Successful Test',
    from: ['IN_TESTING'],
    to: 'SUCCESSFULLY_TESTED',
  },
  {
    id: 'approve-for-production',
    label: 'Approve for Production',
    from: ['SUCCESSFULLY_TESTED'],
    to: 'APPROVED_FOR_DEPLOYMENT',
  },
  { id: 'deploy', label: 'Deploy', from: ['APPROVED_FOR_DEPLOYMENT'], to: 'CONFIRMED' },
  { id: 'set-not-planned', label: 'Set to Not Planned', from: ['CREATED'], to: 'NOT_PLANNED' },
  { id: 'back-to-specification', label: 'Back to Specification', from: ['NOT_PLANNED'], to: 'CREATED' },
];

/** Actions the UI offers for a status: the action's own precondition and the configured matrix both allow it. */
export function actionsFor(ctx: SandboxContext, statusCode: string): LifecycleAction[] {
  const allowed = ctx.settings.featureTransitions[statusCode] ?? [];
  return LIFECYCLE_ACTIONS.filter(
    (action) => action.from.includes(statusCode) && allowed.includes(action.to),
  );
}

/**
 * Applies a UI action. It goes through the same update as `PATCH /Features/{uuid}` with
 * `{ statusCode }`, so the matrix check and the FEATURE.UPDATED event are identical.
 */
export async function applyLifecycleAction(
  ctx: SandboxContext,
  featureUuid: string,
  actionId: string,
  actor = 'sandbox-admin',
): Promise<Feature> {
  const action = LIFECYCLE_ACTIONS.find((candidate) => candidate.id === actionId);
  if (!action) throw notFound(`Unknown lifecycle action '${actionId}'`);
  const row = await featureRow(ctx.db, featureUuid.toLowerCase());
  if (!row) throw notFound(`Feature ${featureUuid} not found`);
  if (!action.from.includes(row.status_code)) {
    throw new CalmError(
      409,
      `'${action.label}' is not available for a feature in status ${toFeature(row).statusCode}`,
    );
  }
  return updateFeature(ctx, null, actor, row.uuid, { statusCode: action.to });
}
