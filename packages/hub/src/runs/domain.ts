import type { HubDomain } from '../app/deps.js';
import { advanceRun } from './advance-run.js';
import { ADVANCE_RUN, ROLLBACK_TASK, SET_FEATURE_STATUS } from './jobs.js';
import { rollbackTask } from './rollback-task.js';
import { registerRunRoutes } from './routes.js';
import { setFeatureStatus } from './set-feature-status.js';

export const runsDomain: HubDomain = {
  name: 'runs',
  routes: registerRunRoutes,
  jobs: (deps) => ({
    [ADVANCE_RUN]: (payload: { runId: string }, context) => advanceRun(deps, payload.runId, context),
    [ROLLBACK_TASK]: (payload: { runId: string; taskKey: string; requestedBy: string }, context) =>
      rollbackTask(deps, payload, context),
    [SET_FEATURE_STATUS]: (payload: { runId: string }, context) =>
      setFeatureStatus(deps, payload.runId, context),
  }),
};
