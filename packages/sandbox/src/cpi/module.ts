import type { HttpApp } from '@calmhub/platform';
import type { SandboxModule } from '../app/module.js';
import { registerCpiAdmin } from './admin.js';
import { defaultCpiServiceKey } from './keys.js';
import { cpiMigrations } from './migrations.js';
import { registerCpiRoutes } from './routes.js';
import { seedCpiDemo } from './seed.js';
import { DEPLOY_JOB, type DeployJob, finishDeploy } from './service.js';

/** SAP Cloud Integration OData v2 API under `/cpi/api/v1`, admin under `/admin/cpi`. */
export const cpiModule: SandboxModule = {
  name: 'cpi',
  migrations: cpiMigrations,
  async register(app, ctx) {
    await registerCpiRoutes(app, ctx);
  },
  async registerAdmin(scope, ctx) {
    // A sub-scope keeps the admin token check and error contract and gives the routes their prefix.
    await scope.register(async (sub) => registerCpiAdmin(sub as unknown as HttpApp, ctx), { prefix: '/cpi' });
  },
  jobs: (ctx) => ({
    [DEPLOY_JOB]: async (payload: DeployJob) => {
      await finishDeploy(ctx, payload.taskId);
    },
  }),
  endpoints: (baseUrl) => ({ 'Cloud Integration API': `${baseUrl}/cpi/api/v1` }),
  files: async (ctx) => ({
    'cpi-service-key.json': `${JSON.stringify(await defaultCpiServiceKey(ctx), null, 2)}\n`,
  }),
  seedDemo: seedCpiDemo,
};
