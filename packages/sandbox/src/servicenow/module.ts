import type { SandboxModule } from '../app/module.js';
import { registerServiceNowAdmin } from './admin.js';
import { ensureDefaultCredentials } from './auth.js';
import { serviceNowMigrations } from './migrations.js';
import { insertRecord } from './records.js';
import { registerServiceNowRoutes } from './routes.js';
import { snRuntime } from './runtime.js';

/**
 * A ServiceNow instance under `/servicenow`: Table API (incident, change_request,
 * sys_journal_field), Basic auth and `oauth_token.do`, ServiceNow's error shape, state rules and
 * fault injection (`shared/reference/external-api-management.md` §8). The target of the
 * ticketing seed.
 */
export const serviceNowModule: SandboxModule = {
  name: 'servicenow',
  migrations: serviceNowMigrations,
  async register(app, ctx) {
    const runtime = snRuntime(ctx);
    await ensureDefaultCredentials(ctx, runtime.db);
    await registerServiceNowRoutes(app, runtime);
  },
  async registerAdmin(scope, ctx) {
    await registerServiceNowAdmin(scope, snRuntime(ctx));
  },
  endpoints(baseUrl) {
    return {
      'ServiceNow instance': `${baseUrl}/servicenow`,
      'ServiceNow Table API': `${baseUrl}/servicenow/api/now/table/incident`,
      'ServiceNow OAuth token': `${baseUrl}/servicenow/oauth_token.do`,
    };
  },
  async files(ctx) {
    const credentials = await ensureDefaultCredentials(ctx, snRuntime(ctx).db);
    const base = `${ctx.publicUrl()}/servicenow`;
    return {
      'servicenow.json': `${JSON.stringify({ instanceUrl: base, tokenUrl: `${base}/oauth_token.do`, ...credentials }, null, 2)}\n`,
    };
  },
  async seedDemo(ctx) {
    const runtime = snRuntime(ctx);
    await ensureDefaultCredentials(ctx, runtime.db);
    const existing = await runtime.db
      .selectFrom('snow_records')
      .select('sys_id')
      .where('table_name', '=', 'incident')
      .executeTakeFirst();
    if (existing) return;
    const actor = { userName: 'admin', userSysId: '6816f79cc0a8016401c5a33be04be441' };
    const now = ctx.now();
    await insertRecord(
      runtime.db,
      'incident',
      { short_description: 'Email server slow', urgency: '2', impact: '2', work_notes: 'Investigating.' },
      actor,
      now,
    );
    await insertRecord(
      runtime.db,
      'incident',
      { short_description: 'VPN disconnects every hour', urgency: '3', impact: '2' },
      actor,
      now,
    );
    await insertRecord(
      runtime.db,
      'change_request',
      { short_description: 'Upgrade S/4HANA QA to FPS02', type: 'normal' },
      actor,
      now,
    );
  },
};
