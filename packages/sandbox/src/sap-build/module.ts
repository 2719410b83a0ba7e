import type { SandboxModule } from '../app/module.js';
import { registerSapBuildAdmin, sapBuildCredentials } from './admin.js';
import { ensureSapBuildClient } from './auth.js';
import { sapBuildMigrations } from './migrations.js';
import { registerSapBuildRoutes } from './routes.js';
import { sapBuildRuntime } from './runtime.js';

/**
 * SAP Build Process Automation's workflow API under `/sap-build` (start, read, outputs, cancel)
 * behind an OAuth2 client-credentials token endpoint — the target of SAP's feature/document
 * workflow and event-situation mappings (`shared/reference/external-api-management.md` §5.6 (a),
 * (b), §10 item 6). Instances complete through the admin API, standing in for the approvers.
 */
export const sapBuildModule: SandboxModule = {
  name: 'sap-build',
  migrations: sapBuildMigrations,
  async register(app, ctx) {
    const runtime = sapBuildRuntime(ctx);
    await ensureSapBuildClient(ctx, runtime);
    await registerSapBuildRoutes(app, runtime);
  },
  async registerAdmin(scope, ctx) {
    await registerSapBuildAdmin(scope, sapBuildRuntime(ctx));
  },
  endpoints(baseUrl) {
    return {
      'SAP Build workflow API': `${baseUrl}/sap-build/workflow/rest/v1/workflow-instances`,
      'SAP Build OAuth token': `${baseUrl}/sap-build/oauth/token`,
    };
  },
  async files(ctx) {
    return {
      'sap-build.json': `${JSON.stringify(await sapBuildCredentials(sapBuildRuntime(ctx)), null, 2)}\n`,
    };
  },
};
