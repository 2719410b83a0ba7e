import type { HttpApp } from '@calmhub/platform';
import type { SandboxModule } from '../app/module.js';
import { registerCtmsAdmin } from './admin.js';
import { defaultCtmsServiceKey } from './keys.js';
import { ctmsMigrations } from './migrations.js';
import { registerCtmsRoutes } from './routes.js';
import { seedCtmsDemo } from './seed.js';
import { finishImport, IMPORT_JOB, type ImportJob } from './service.js';

/** SAP Cloud Transport Management (CTMS) REST API v2 under `/ctms/v2`, admin under `/admin/ctms`. */
export const ctmsModule: SandboxModule = {
  name: 'ctms',
  migrations: ctmsMigrations,
  async register(app, ctx) {
    await registerCtmsRoutes(app, ctx);
  },
  async registerAdmin(scope, ctx) {
    // A sub-scope keeps the admin token check and error contract and gives the routes their prefix.
    await scope.register(async (sub) => registerCtmsAdmin(sub as unknown as HttpApp, ctx), {
      prefix: '/ctms',
    });
  },
  jobs: (ctx) => ({
    [IMPORT_JOB]: async (payload: ImportJob) => {
      await finishImport(ctx, payload.actionId);
    },
  }),
  endpoints: (baseUrl) => ({ 'CTMS API (v2)': `${baseUrl}/ctms/v2` }),
  files: async (ctx) => ({
    'ctms-service-key.json': `${JSON.stringify(await defaultCtmsServiceKey(ctx), null, 2)}\n`,
  }),
  seedDemo: seedCtmsDemo,
};
