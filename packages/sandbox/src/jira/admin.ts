import type { HttpApp } from '@calmhub/platform';
import '../shared/fastify-schema.js';
import { asBody, rejectUnknown, str } from '../shared/body.js';
import { CalmError } from '../shared/errors.js';
import { ensureJiraDefaults } from './auth.js';
import { JiraError } from './errors.js';
import { findIssue, listIssues, renderIssue, transitionIssue } from './issues.js';
import { type JiraRuntime, siteUrl } from './runtime.js';

const doc = (summary: string) => ({
  schema: { tags: ['jira'], summary, description: 'Requires `Authorization: Bearer <admin token>`.' },
});

/** Admin answers use calmhub's error contract, not Jira's. */
function toCalm(error: unknown): never {
  if (error instanceof JiraError)
    throw new CalmError(error.status, [...error.errorMessages, ...Object.values(error.errors)].join('; '));
  throw error;
}

export async function registerJiraAdmin(scope: HttpApp, runtime: JiraRuntime): Promise<void> {
  const { ctx, db } = runtime;
  scope.get(
    '/jira/credentials',
    doc('Site URL, the integration user (e-mail + API token) and project key'),
    async () => ({
      siteUrl: siteUrl(ctx),
      issueUrl: `${siteUrl(ctx)}/rest/api/2/issue`,
      ...(await ensureJiraDefaults(ctx, db)),
    }),
  );
  scope.get('/jira/issues', doc('All issues, as GET /rest/api/2/issue/{id} renders them'), async () => {
    const issues = [];
    for (const row of await listIssues(db)) issues.push(await renderIssue(db, row, siteUrl(ctx)));
    return issues;
  });
  scope.get<{ Params: { idOrKey: string } }>('/jira/issues/:idOrKey', doc('One issue'), async (request) => {
    try {
      return await renderIssue(db, await findIssue(db, request.params.idOrKey), siteUrl(ctx));
    } catch (error) {
      toCalm(error);
    }
  });
  scope.post<{ Params: { idOrKey: string } }>(
    '/jira/issues/:idOrKey/transition',
    doc('Move an issue to a status ({status: "To Do" | "In Progress" | "Done"}), as a user would'),
    async (request) => {
      const body = asBody(request.body);
      rejectUnknown(body, ['status']);
      try {
        await transitionIssue(
          db,
          request.params.idOrKey,
          str(body, 'status', { required: true }) as string,
          ctx.now(),
        );
        return await renderIssue(db, await findIssue(db, request.params.idOrKey), siteUrl(ctx));
      } catch (error) {
        toCalm(error);
      }
    },
  );
}
