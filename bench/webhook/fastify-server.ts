/**
 * A reference for `bench:webhook`: the hub's HTTP skeleton (`createHttpApp`, the same scope,
 * content-type parser, schemas and log level as the webhook route) answering 202 without doing
 * anything. It shows the framework's own share of the gap to the raw server. Prints its URL.
 */
import { createHttpApp, createLogger } from '@calmhub/platform';
import Type from 'typebox';

const app = await createHttpApp({
  logger: createLogger('info'),
  title: 'bench',
  version: '0',
  readiness: async () => {},
});
const path = '/ratesaptms/webhook/tenant/:tenantId/project/:projectId/calm/pmsint/:integrationId/sync';
app.register(async (scope) => {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 1024 * 1024 }, (_request, body, done) =>
    done(null, body),
  );
  scope.post(
    path,
    {
      logLevel: 'warn',
      schema: {
        params: Type.Object({
          tenantId: Type.String(),
          projectId: Type.String(),
          integrationId: Type.String(),
        }),
        response: { 202: Type.Object({ id: Type.String(), outcome: Type.String() }) },
      },
    },
    async (_request, reply) =>
      reply.status(202).send({ id: '00000000-0000-4000-8000-000000000000', outcome: 'accepted' }),
  );
});
const url = await app.listen({ host: '127.0.0.1', port: 0 });
console.log(
  JSON.stringify({ url: `${url}/ratesaptms/webhook/tenant/t/project/p/calm/pmsint/i/sync?secretKey=k` }),
);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
