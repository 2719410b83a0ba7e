import type { HubDomain } from '../app/deps.js';
import { TRANSITION_RECORDED } from '../sync/jobs.js';
import { PROCESS_DELIVERY } from './jobs.js';
import { MOVE_LANDED, moveLanded, settleLanding } from './landing.js';
import { processDelivery } from './process-delivery.js';
import { registerInboxRoutes } from './routes.js';
import { actOnTransition } from './status-actions.js';

export const inboxDomain: HubDomain = {
  name: 'inbox',
  routes: registerInboxRoutes,
  // Deliveries landed before a stop are moved at once: the move job the stopped process held
  // leased would wait for its lease to expire.
  resume: settleLanding,
  jobs: (deps) => ({
    [MOVE_LANDED]: () => moveLanded(deps, true),
    [PROCESS_DELIVERY]: (payload: { deliveryId: string }) => processDelivery(deps, payload.deliveryId),
    [TRANSITION_RECORDED]: (payload: { transitionId: number }, context) =>
      actOnTransition(deps, payload.transitionId, context),
  }),
};
