import type { HubDomain } from '../app/deps.js';
import { reconcileSchedule, SYNC_RECONCILE, SYNC_RUN } from './jobs.js';
import { registerSyncRoutes } from './routes.js';
import { syncRunJob } from './run-sync.js';
import { reconcile } from './sync-runs.js';

export const syncDomain: HubDomain = {
  name: 'sync',
  routes: registerSyncRoutes,
  jobs: (deps) => ({
    [SYNC_RUN]: (payload: { runId: string }) => syncRunJob(deps, payload.runId),
    [SYNC_RECONCILE]: async () => {
      await reconcile(deps);
    },
  }),
  schedules: (deps) => [reconcileSchedule(deps.config.syncDeltaIntervalMs)],
};
