import type { SandboxModule } from '../app/module.js';
import { registerJiraAdmin } from './admin.js';
import { ensureJiraDefaults } from './auth.js';
import { jiraMigrations } from './migrations.js';
import { registerJiraRoutes } from './routes.js';
import { jiraRuntime, siteUrl } from './runtime.js';

/**
 * A Jira Cloud site under `/jira`: `POST/GET/PUT /rest/api/2/issue`, Basic auth with e-mail + API
 * token and Jira's `{errorMessages, errors}` bodies — the target of the task-to-Jira mapping
 * (`shared/reference/external-api-management.md` §5.6 (e), §10 item 6).
 */
export const jiraModule: SandboxModule = {
  name: 'jira',
  migrations: jiraMigrations,
  async register(app, ctx) {
    const runtime = jiraRuntime(ctx);
    await ensureJiraDefaults(ctx, runtime.db);
    await registerJiraRoutes(app, runtime);
  },
  async registerAdmin(scope, ctx) {
    await registerJiraAdmin(scope, jiraRuntime(ctx));
  },
  endpoints(baseUrl) {
    return {
      'Jira site': `${baseUrl}/jira`,
      'Jira issue API': `${baseUrl}/jira/rest/api/2/issue`,
    };
  },
  async files(ctx) {
    const credentials = await ensureJiraDefaults(ctx, jiraRuntime(ctx).db);
    return {
      'jira.json': `${JSON.stringify({ siteUrl: siteUrl(ctx), issueUrl: `${siteUrl(ctx)}/rest/api/2/issue`, ...credentials }, null, 2)}\n`,
    };
  },
};
