import { type HttpApp, readJson } from '@calmhub/platform';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { unstorablePath } from '../shared/storable.js';
import { authenticate, clientCredentialsGrant } from './auth.js';
import { SapBuildError, SapBuildOAuthError } from './errors.js';
import { findInstance, listInstances, outputsOf, patchInstance, render, startInstance } from './instances.js';
import type { SapBuildRuntime } from './runtime.js';

type InstanceParams = { Params: { id: string } };
const BASE = '/workflow/rest/v1/workflow-instances';

/**
 * SAP Build Process Automation's workflow API under `/sap-build`, with its token endpoint. Query
 * parameters such as `environmentId` (used by SAP's shared-environment mappings) are accepted and
 * ignored: the emulator has one environment.
 */
export async function registerSapBuildRoutes(app: HttpApp, runtime: SapBuildRuntime): Promise<void> {
  const { ctx, db } = runtime;
  await app.register(
    async (plain) => {
      const scope = plain as unknown as HttpApp;
      scope.setErrorHandler(
        (error: Error & { statusCode?: number }, _request: FastifyRequest, reply: FastifyReply) => {
          if (error instanceof SapBuildError)
            return reply.status(error.status).headers(error.headers).send(error.body());
          if (error instanceof SapBuildOAuthError) return reply.status(error.status).send(error.body());
          const status = error.statusCode ?? 500;
          if (status >= 400 && status < 500)
            return reply.status(status).send(new SapBuildError(status, error.message).body());
          ctx.logger.error({ err: error }, 'sap-build emulator error');
          return reply.status(500).send(new SapBuildError(500, 'Internal Server Error').body());
        },
      );
      scope.setNotFoundHandler((request, reply) =>
        reply.status(404).send(new SapBuildError(404, `No resource at ${request.url}`).body()),
      );

      // PostgreSQL stores no NUL or unpaired surrogate: refuse them as the client's mistake.
      scope.addHook('preValidation', async (request) => {
        const bad = unstorablePath(request.body);
        if (bad)
          throw new SapBuildError(
            400,
            `The value of ${bad} contains characters that cannot be stored (NUL or an unpaired surrogate)`,
          );
      });

      scope.post('/oauth/token', { schema: { hide: true } }, async (request, reply) => {
        const form = (request.body ?? {}) as Record<string, unknown>;
        const query = request.query as Record<string, unknown>;
        // XSUAA also takes the grant in the query string.
        const token = await clientCredentialsGrant(
          runtime,
          { ...query, ...form },
          request.headers.authorization,
        );
        return reply.header('cache-control', 'no-store').send(token);
      });

      const caller = (request: FastifyRequest) => authenticate(runtime, request.headers.authorization);
      // SAP's own mappings add a trailing slash before the query (`workflow-instances/?environmentId=…`).
      for (const collection of [BASE, `${BASE}/`]) {
        scope.post(collection, { schema: { hide: true } }, async (request, reply) => {
          const clientId = await caller(request);
          return reply.status(201).send(render(await startInstance(db, request.body, clientId, ctx.now())));
        });
        scope.get(collection, { schema: { hide: true } }, async (request) => {
          await caller(request);
          const query = request.query as Record<string, string | undefined>;
          return (await listInstances(db, { definitionId: query.definitionId, status: query.status })).map(
            render,
          );
        });
      }
      for (const instance of [`${BASE}/:id`, `${BASE}/:id/`]) {
        scope.get<InstanceParams>(instance, { schema: { hide: true } }, async (request) => {
          await caller(request);
          return render(await findInstance(db, request.params.id));
        });
        scope.patch<InstanceParams>(instance, { schema: { hide: true } }, async (request, reply) => {
          await caller(request);
          await patchInstance(db, request.params.id, request.body, ctx.now());
          return reply.status(204).send();
        });
      }
      scope.get<InstanceParams>(`${BASE}/:id/outputs`, { schema: { hide: true } }, async (request) => {
        await caller(request);
        return outputsOf(db, request.params.id);
      });
      scope.get<InstanceParams>(`${BASE}/:id/context`, { schema: { hide: true } }, async (request) => {
        await caller(request);
        return readJson((await findInstance(db, request.params.id)).context);
      });
    },
    { prefix: '/sap-build' },
  );
}
