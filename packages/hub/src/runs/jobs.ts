import type { JobSpec } from '@calmhub/platform';

/** Runs a run's next tasks until it passes, fails or waits (approval). One at a time per run. */
export const ADVANCE_RUN = 'hub.runs.advance';
/** Restores the Cloud Integration backups a deployment task took, and deploys them. */
export const ROLLBACK_TASK = 'hub.runs.rollback';
/** The optional stage passed → Cloud ALM feature status map. */
export const SET_FEATURE_STATUS = 'hub.runs.feature_status';

export const advanceRunJob = (runId: string): JobSpec => ({
  name: ADVANCE_RUN,
  payload: { runId },
  dedupeKey: `advance:${runId}`,
  orderingKey: `run:${runId}`,
  maxAttempts: 25,
});

export const rollbackTaskJob = (runId: string, taskKey: string, requestedBy: string): JobSpec => ({
  name: ROLLBACK_TASK,
  payload: { runId, taskKey, requestedBy },
  orderingKey: `run:${runId}`,
  maxAttempts: 10,
});

export const setFeatureStatusJob = (runId: string): JobSpec => ({
  name: SET_FEATURE_STATUS,
  payload: { runId },
  dedupeKey: `feature-status:${runId}`,
  maxAttempts: 25,
});
