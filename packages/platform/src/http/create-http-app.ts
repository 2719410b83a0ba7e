import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type RawServerDefault } from 'fastify';
import Type from 'typebox';
import type { Logger } from '../logging/logger.js';
import { installErrorHandler } from './error-handler.js';

export type HttpApp = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

export interface HttpAppOptions {
  logger: Logger;
  title: string;
  version: string;
  description?: string;
  /** Throws when the service cannot serve (store down, migrations missing). */
  readiness: () => Promise<void>;
  bodyLimitBytes?: number;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export const ErrorResponse = Type.Object(
  {
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      details: Type.Optional(Type.Unknown()),
      requestId: Type.String(),
    }),
  },
  { $id: 'ErrorResponse', description: 'Every error answer: a stable code, a message and the request id.' },
);

/**
 * A Fastify instance with what every calmhub server shares: request ids (echoing a sane
 * incoming `x-request-id`), the error contract, OpenAPI at /api/openapi.json with docs at
 * /api/docs (assets served locally), /healthz and /readyz.
 */
export async function createHttpApp(options: HttpAppOptions): Promise<HttpApp> {
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    bodyLimit: options.bodyLimitBytes ?? 10 * 1024 * 1024,
    requestIdHeader: false,
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
    return503OnClosing: true,
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  // Responses finishing after close() began end their keep-alive socket; otherwise close()
  // would wait for the idle timeout of every connection that was busy when it started.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close');
  });
  installErrorHandler(app);
  app.addSchema(ErrorResponse);

  await app.register(swagger, {
    // Shared schemas keep their $id as the component name instead of def-N.
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) =>
        typeof json.$id === 'string' ? json.$id : `def-${i}`,
    },
    openapi: {
      openapi: '3.1.0',
      info: {
        title: options.title,
        version: options.version,
        ...(options.description ? { description: options.description } : {}),
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.get(
    '/healthz',
    {
      schema: {
        tags: ['health'],
        summary: 'The process is up',
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );
  app.get(
    '/readyz',
    {
      schema: {
        tags: ['health'],
        summary: 'The store is reachable and migrated',
        response: { 200: Type.Object({ status: Type.Literal('ready') }), 503: Type.Ref('ErrorResponse') },
      },
    },
    async (request, reply) => {
      try {
        await options.readiness();
        return { status: 'ready' as const };
      } catch (error) {
        return reply.status(503).send({
          error: {
            code: 'unavailable',
            message: `Not ready: ${(error as Error).message}`,
            requestId: request.id,
          },
        });
      }
    },
  );
  return app;
}
