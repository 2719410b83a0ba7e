import type { HubDomain } from '../app/deps.js';
import type { WriteBackTarget } from './actions.js';
import { flushWriteBacks } from './flush-write-backs.js';
import { WRITE_BACK_FLUSH } from './jobs.js';
import { registerWriteBackRoutes } from './routes.js';

export const writeBackDomain: HubDomain = {
  name: 'writeback',
  routes: registerWriteBackRoutes,
  jobs: (deps) => ({
    [WRITE_BACK_FLUSH]: (payload: WriteBackTarget) => flushWriteBacks(deps, payload),
  }),
};
