import type { JobSpec } from '@calmhub/platform';
import { batchKeyOf, type WriteBackTarget } from './actions.js';

/** The write-back domain's job: flush what one Cloud ALM item is owed. */
export const WRITE_BACK_FLUSH = 'hub.writeback.flush';

/**
 * One flush per target while it waits (dedupe), writes to one target one at a time and in order
 * (ordering key). Failures reschedule it with the handler's own backoff, for as long as it takes:
 * a row is never dropped.
 */
export const flushWriteBacksJob = (target: WriteBackTarget, runAt: number): JobSpec<WriteBackTarget> => ({
  name: WRITE_BACK_FLUSH,
  payload: target,
  dedupeKey: `writeback:${batchKeyOf(target)}`,
  orderingKey: `writeback:${batchKeyOf(target)}`,
  runAt,
  maxAttempts: 10_000,
});
