import type { JobSpec } from '@calmhub/platform';

export const PROCESS_DELIVERY = 'hub.inbox.process';

/** Deliveries about one item are processed one at a time, in the order received. */
export const processDeliveryJob = (
  integrationId: string,
  deliveryId: string,
  resourceId: string | undefined,
): JobSpec => ({
  name: PROCESS_DELIVERY,
  payload: { deliveryId },
  orderingKey: `calm-item:${integrationId}:${(resourceId ?? deliveryId).toLowerCase()}`,
  maxAttempts: 1000,
});
