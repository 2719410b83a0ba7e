import './fastify-schema.js';
import { STATUS_CODES } from 'node:http';
import type { HttpApp } from '@calmhub/platform';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { SandboxContext } from '../app/context.js';
import { authenticate, type Principal } from '../auth/tokens.js';
import { CalmError } from './errors.js';

/** Cloud ALM's two API styles answer errors differently (reference §7). */
export type ApiFamily = 'rest' | 'odata';

export function errorBody(
  family: ApiFamily,
  error: { status: number; code: string; message: string },
): unknown {
  return family === 'odata'
    ? { error: { code: error.code, message: error.message } }
    : { message: error.message };
}

export function sendCalmError(family: ApiFamily, reply: FastifyReply, error: CalmError): FastifyReply {
  return reply.status(error.status).headers(error.headers).send(errorBody(family, error));
}

/** A client-facing message for an error Fastify raised itself (status 4xx, code `FST_ERR_*`). */
function clientMessage(error: FastifyError, request: FastifyRequest): string {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'The request body is too large';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return `Unsupported media type: ${request.headers['content-type'] ?? 'none'}`;
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return 'The request body does not match its Content-Length';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return 'The request body is not valid JSON';
  }
  if (error.statusCode === 415) return `Unsupported media type: ${request.headers['content-type'] ?? 'none'}`;
  return STATUS_CODES[error.statusCode ?? 400] ?? 'Bad request';
}

const principals = new WeakMap<FastifyRequest, Principal>();

export function principalOf(request: FastifyRequest): Principal {
  const principal = principals.get(request);
  if (!principal) throw new CalmError(401, 'Full authentication is required to access this resource');
  return principal;
}

function parseJsonBody(
  _request: FastifyRequest,
  body: string,
  done: (err: Error | null, body?: unknown) => void,
): void {
  // An empty body is fine (DELETE with a stray Content-Type); malformed JSON is the client's 400.
  if (body.trim() === '') {
    done(null, undefined);
    return;
  }
  try {
    done(null, JSON.parse(body));
  } catch {
    done(new CalmError(400, 'The request body is not valid JSON'));
  }
}

/**
 * One Cloud ALM service under its route (`/api/calm-tasks/v1`...): bearer authentication,
 * error and 404 answers in the service's own shape, and lenient JSON parsing. Fastify
 * encapsulation keeps these apart from the admin API's calmhub-style errors.
 */
export async function registerCalmService(
  app: HttpApp,
  ctx: SandboxContext,
  options: { prefix: string; family: ApiFamily },
  routes: (scope: HttpApp) => void | Promise<void>,
): Promise<void> {
  const { family } = options;
  await app.register(
    async (scope) => {
      scope.removeContentTypeParser('application/json');
      scope.addContentTypeParser(
        ['application/json', 'application/merge-patch+json'],
        { parseAs: 'string' },
        (request, body, done) => parseJsonBody(request, body as string, done),
      );

      scope.addHook('onRequest', async (request) => {
        principals.set(request, await authenticate(ctx, request.headers.authorization));
        // A NUL anywhere in the URL could only end as a database error; answer it as the client's mistake.
        if (/%00/.test(request.url)) throw new CalmError(400, 'The request URL contains a NUL character');
      });

      scope.setErrorHandler((error: FastifyError | CalmError | Error, request, reply) => {
        if (error instanceof CalmError) return sendCalmError(family, reply, error);
        const fastifyError = error as FastifyError;
        if (fastifyError.validation) {
          return sendCalmError(family, reply, new CalmError(400, fastifyError.message));
        }
        const status = fastifyError.statusCode;
        if (status && status >= 400 && status < 500) {
          // Fastify's own errors (body too large, wrong media type...) carry a status but neither
          // an OData code nor a message meant for clients: give them both, and nothing internal.
          return sendCalmError(family, reply, new CalmError(status, clientMessage(fastifyError, request)));
        }
        request.log.error({ err: error }, 'sandbox service error');
        return sendCalmError(family, reply, new CalmError(500, 'Internal server error'));
      });

      scope.setNotFoundHandler((request, reply) => {
        sendCalmError(
          family,
          reply,
          new CalmError(404, `Resource not found for the segment '${request.url.split('?')[0]}'`),
        );
      });

      await routes(scope);
    },
    { prefix: options.prefix },
  );
}

/** The query string parsed once with WHATWG rules (`+` is a space), keeping repeated keys. */
export function searchParams(request: FastifyRequest): URLSearchParams {
  const index = request.url.indexOf('?');
  return new URLSearchParams(index < 0 ? '' : request.url.slice(index + 1));
}

/** Routes are hidden from the OpenAPI document, which describes the admin API only. */
export const hidden = { schema: { hide: true } } as const;
