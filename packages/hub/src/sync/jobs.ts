import type { JobSpec, ScheduleSpec } from '@calmhub/platform';

/** The sync domain's jobs: names, payloads, ordering in one place. */
export const SYNC_RUN = 'hub.sync.run';
export const SYNC_RECONCILE = 'hub.sync.reconcile';

/**
 * One run of one integration. Runs of an integration go one at a time (ordering key). Throttling
 * reschedules the job many times in a long run, so attempts are generous; the run itself gives
 * up after `syncMaxFailures` failures in a row.
 */
export const syncRunJob = (integrationId: string, runId: string): JobSpec => ({
  name: SYNC_RUN,
  payload: { runId },
  orderingKey: `integration:${integrationId}`,
  maxAttempts: 10_000,
});

/** The reconcile tick: fires once per period across every hub process sharing the store. */
export const reconcileSchedule = (everyMs: number): ScheduleSpec => ({
  name: SYNC_RECONCILE,
  everyMs,
  job: { name: SYNC_RECONCILE },
});

/**
 * A status transition was recorded (by any path). Domains that act on transitions handle this job;
 * it is enqueued in the transaction that records the transition, once per transition.
 */
export const TRANSITION_RECORDED = 'hub.transition.recorded';

export const transitionRecordedJob = (transitionId: number): JobSpec => ({
  name: TRANSITION_RECORDED,
  payload: { transitionId },
  dedupeKey: `transition:${transitionId}`,
  maxAttempts: 1000,
});
