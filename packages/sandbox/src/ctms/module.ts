import type { HttpApp } from '@calmhub/platform';
import type { SandboxModule } from '../app/module.js';
import { registerCtmsAdmin } from './admin.js';
import { defaultCtmsServiceKey } from './keys.js';
import { ctmsMigrations } from './migrations.js';
import { registerCtmsRoutes } from './routes.js';
import { seedCtmsDemo } from './seed.js';
import { exportAbapRequest, finishImport, IMPORT_JOB, type ImportJob } from './service.js';
import type { CtmsExecutor } from './tables.js';

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
  // An ABAP system connected to CTMS exports what it releases: the request joins the import
  // queues that follow the node standing for its source system, in the releasing transaction.
  async onTransportReleased(ctx, trx, transport) {
    if (!transport.sourceSystem) return;
    // The same transaction, typed for this module's tables.
    const db = trx as unknown as CtmsExecutor;
    const result = await exportAbapRequest(db, transport.releasedAt, {
      number: transport.transportId,
      description: transport.description ?? transport.transportId,
      owner: transport.owner ?? 'sandbox',
      system: transport.sourceSystem,
      objects: transport.objects,
    });
    if (!result) {
      ctx.logger.info(
        { transport: transport.transportId, system: transport.sourceSystem },
        'ctms: no node stands for the source system; the released transport is not exported',
      );
    }
  },
};
