import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerOptions, type ServerResponse } from 'node:http';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type RawServerDefault,
} from 'fastify';
import Type from 'typebox';
import { codeForStatus } from '../errors/app-error.js';
import type { Logger } from '../logging/logger.js';
import { errorBody, installErrorHandler } from './error-handler.js';
import { type RawRoute, RawRoutes, requestIdOf } from './raw-routes.js';

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
  /**
   * Longest a client may take to send a whole request, headers and body (default 30 000; 0: no
   * limit). A client that announces a body and stalls gets a 408 and its socket is closed, instead
   * of holding the connection open indefinitely. Headers must arrive within the same time
   * (at most Node's 60 s default).
   */
  requestTimeoutMs?: number;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** Each app's routes answered before Fastify (see RawRoutes). */
const rawRoutesOf = new WeakMap<object, RawRoutes>();

/** Serves `route` on node:http ahead of Fastify; register the same endpoint in Fastify as well (docs, inject). */
export function addRawRoute(app: HttpApp, route: RawRoute): void {
  const routes = rawRoutesOf.get(app);
  if (!routes) throw new Error('addRawRoute: not an app made by createHttpApp');
  routes.add(route);
}

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
  const requestTimeout = Math.max(0, options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS);
  const rawRoutes = new RawRoutes(options.logger);
  // Fastify's default (0) switches off Node's request timeout altogether. Node enforces it
  // from a periodic sweep (every 30 s by default), so the sweep runs often enough for the
  // timeout to hold to within a quarter of itself (at most 1 s late).
  const http: ServerOptions =
    requestTimeout > 0
      ? {
          requestTimeout,
          headersTimeout: Math.min(60_000, requestTimeout),
          connectionsCheckingInterval: Math.max(25, Math.min(1000, Math.floor(requestTimeout / 4))),
        }
      : {};
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    bodyLimit: options.bodyLimitBytes ?? 10 * 1024 * 1024,
    requestTimeout,
    // The server Fastify would make, with the raw routes looked at first.
    serverFactory: (handler, fastifyOptions) => {
      const server = createServer(http, (request, response) => {
        if (!rawRoutes.handle(request, response)) handler(request, response);
      });
      server.keepAliveTimeout = Number(fastifyOptions.keepAliveTimeout ?? 72_000);
      server.requestTimeout = requestTimeout;
      server.setTimeout(Number(fastifyOptions.connectionTimeout ?? 0));
      return server;
    },
    requestIdHeader: false,
    genReqId: requestIdOf,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
    return503OnClosing: true,
    // Errors Fastify raises before routing (malformed URL, ...) keep the error contract too.
    frameworkErrors: (error, request, reply) => {
      const status = error.statusCode ?? 400;
      // The reply here is not typed by any route schema.
      (reply as unknown as FastifyReply)
        .status(status)
        .send(errorBody(codeForStatus(status), error.message, request.id));
    },
    // Requests Node's parser rejects (oversized headers, garbage) never reach Fastify, nor do
    // requests that time out (ERR_HTTP_REQUEST_TIMEOUT, even when the handler already runs).
    clientErrorHandler: (error, socket) => {
      // As Node does: answer only if no response has started on this socket, then close it.
      const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
      if (!socket.writable || inFlight?.headersSent) {
        socket.destroy();
        return;
      }
      const code = (error as { code?: string }).code;
      const status = code === 'HPE_HEADER_OVERFLOW' ? 431 : code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
      const reason = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' }[
        status
      ];
      const message = status === 408 ? 'The request was not received in time' : error.message;
      const body = JSON.stringify(errorBody(codeForStatus(status), message, randomUUID()));
      socket.end(
        `HTTP/1.1 ${status} ${reason}\r\n` +
          `content-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  // Responses finishing after close() began end their keep-alive socket; otherwise close()
  // would wait for the idle timeout of every connection that was busy when it started.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
    rawRoutes.closing = true;
  });
  app.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close');
  });
  rawRoutesOf.set(app, rawRoutes);
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

/**
 * Closes the server: in-flight requests may finish for up to `timeoutMs`, then the remaining
 * connections are cut so a stuck request cannot hold up shutdown.
 */
export async function closeWithin(app: HttpApp, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const closing = app.close();
  await Promise.race([closing, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
  clearTimeout(timer);
  app.server.closeAllConnections();
  await closing;
}
