import type { HttpApp } from '@calmhub/platform';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { unstorablePath } from '../shared/storable.js';
import { authenticate } from './auth.js';
import { JiraError } from './errors.js';
import { createIssue, editIssue, findIssue, renderIssue } from './issues.js';
import { type JiraRuntime, siteUrl } from './runtime.js';

type IssueParams = { Params: { idOrKey: string } };

/** The emulated Jira Cloud site under `/jira`: the v2 issue API with Basic e-mail + API token. */
export async function registerJiraRoutes(app: HttpApp, runtime: JiraRuntime): Promise<void> {
  const { ctx, db } = runtime;
  await app.register(
    async (plain) => {
      const scope = plain as unknown as HttpApp;
      scope.setErrorHandler(
        (error: Error & { statusCode?: number }, _request: FastifyRequest, reply: FastifyReply) => {
          if (error instanceof JiraError)
            return reply.status(error.status).headers(error.headers).send(error.body());
          const status = error.statusCode ?? 500;
          if (status === 415)
            return reply.status(415).send(new JiraError(415, ['Unsupported Media Type']).body());
          if (status >= 400 && status < 500)
            return reply
              .status(400)
              .send(new JiraError(400, [`Unexpected request body: ${error.message}`]).body());
          ctx.logger.error({ err: error }, 'jira emulator error');
          return reply.status(500).send(new JiraError(500, ['Internal server error']).body());
        },
      );
      scope.setNotFoundHandler((request, reply) =>
        reply.status(404).send(new JiraError(404, [`null for uri: ${request.url}`]).body()),
      );

      // PostgreSQL stores no NUL or unpaired surrogate: refuse them as the client's mistake.
      scope.addHook('preValidation', async (request) => {
        const bad = unstorablePath(request.body);
        if (bad)
          throw new JiraError(400, [
            `Unexpected request body: ${bad} contains characters that cannot be stored (NUL or an unpaired surrogate)`,
          ]);
      });

      const user = (request: FastifyRequest) => authenticate(ctx, db, request.headers.authorization);

      scope.post('/rest/api/2/issue', { schema: { hide: true } }, async (request, reply) => {
        const who = await user(request);
        const issue = await createIssue(db, request.body, who, ctx.now());
        return reply
          .status(201)
          .send({ id: issue.id, key: issue.key, self: `${siteUrl(ctx)}/rest/api/2/issue/${issue.id}` });
      });
      scope.get<IssueParams>('/rest/api/2/issue/:idOrKey', { schema: { hide: true } }, async (request) => {
        await user(request);
        return renderIssue(db, await findIssue(db, request.params.idOrKey), siteUrl(ctx));
      });
      scope.put<IssueParams>(
        '/rest/api/2/issue/:idOrKey',
        { schema: { hide: true } },
        async (request, reply) => {
          await user(request);
          await editIssue(db, request.params.idOrKey, request.body, ctx.now());
          return reply.status(204).send();
        },
      );
    },
    { prefix: '/jira' },
  );
}
