import type { JobSpec } from '@calmhub/platform';

export const PROCESS_DELIVERY = 'hub.inbox.process';

/**
 * Deliveries about one item are processed one at a time, in the order received.
 *
 * `coalesce`: while a job for the same item waits to start, the delivery joins it instead of
 * adding a job (the job's read of the item settles every delivery received before it began,
 * see processDelivery). Only where writers are serialised (SQLite): there a delivery that joined
 * a waiting job has committed before that job can be claimed. On PostgreSQL the insert's
 * ON CONFLICT DO NOTHING takes no lock, so the job could be claimed and read the inbox before
 * the joining delivery commits; each delivery keeps its own job there.
 * `runAt`: a later start, so that more deliveries about the item join the job (under a burst).
 */
export const processDeliveryJob = (
  integrationId: string,
  deliveryId: string,
  resourceId: string | undefined,
  options: { coalesce?: boolean; runAt?: number } = {},
): JobSpec => {
  const orderingKey = `calm-item:${integrationId}:${(resourceId ?? deliveryId).toLowerCase()}`;
  return {
    name: PROCESS_DELIVERY,
    payload: { deliveryId },
    orderingKey,
    ...(options.coalesce && resourceId !== undefined
      ? { dedupeKey: `${PROCESS_DELIVERY}:${orderingKey}` }
      : {}),
    ...(options.runAt !== undefined ? { runAt: options.runAt } : {}),
    maxAttempts: 1000,
  };
};
