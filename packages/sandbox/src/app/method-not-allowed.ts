import type { HttpApp } from '@calmhub/platform';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { renderCpiError } from '../cpi/routes.js';
import { renderCtmsError } from '../ctms/routes.js';
import { JiraError } from '../jira/errors.js';
import { SapBuildError } from '../sap-build/errors.js';
import { SnError } from '../servicenow/errors.js';
import { CalmError } from '../shared/errors.js';
import { errorBody } from '../shared/family.js';
import type { SandboxContext } from './context.js';

/** The methods a path is probed for, in the order `Allow` lists them. */
export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/** A route as registered with Fastify (full URL pattern, prefix included). */
export interface RegisteredRoute {
  url: string;
  methods: string[];
}

type Render = (request: FastifyRequest, reply: FastifyReply, message: string) => unknown;

/**
 * Each service answers in its own error shape, chosen by URL prefix (first match wins); anything
 * else (admin API, UI, health, OpenAPI) answers in calmhub's contract.
 */
const RENDERERS: ReadonlyArray<readonly [string, Render]> = [
  [
    '/api/calm-features/',
    (_request, reply, message) =>
      reply
        .header('odata-version', '4.0')
        .send(errorBody('odata', { status: 405, code: 'METHOD_NOT_ALLOWED', message })),
  ],
  [
    '/api/calm-',
    (_request, reply, message) => reply.send(errorBody('rest', { status: 405, code: '', message })),
  ],
  [
    '/oauth/',
    (_request, reply, message) => reply.send({ error: 'method_not_allowed', error_description: message }),
  ],
  [
    '/token_keys',
    (_request, reply, message) => reply.send({ error: 'method_not_allowed', error_description: message }),
  ],
  ['/ctms/', (_request, reply, message) => renderCtmsError(reply, new CalmError(405, message))],
  ['/cpi/', (_request, reply, message) => renderCpiError(reply, new CalmError(405, message))],
  [
    '/servicenow/',
    (_request, reply, message) => reply.send(new SnError(405, 'Method not Supported', message).body()),
  ],
  ['/jira/', (_request, reply, message) => reply.send(new JiraError(405, [message]).body())],
  ['/sap-build/', (_request, reply, message) => reply.send(new SapBuildError(405, message).body())],
];

const calmhubShape: Render = (request, reply, message) =>
  reply.send({ error: { code: 'method_not_allowed', message, requestId: request.id } });

function rendererFor(path: string): Render {
  return RENDERERS.find(([prefix]) => path.startsWith(prefix))?.[1] ?? calmhubShape;
}

/**
 * The methods registered for a concrete path, in `Allow` order. HEAD, which Fastify adds for
 * every GET route, is left out when GET is there (GET implies it).
 */
export function allowedMethods(app: HttpApp, path: string): string[] {
  const found = HTTP_METHODS.filter((method) => app.findRoute({ method, url: path }) !== null);
  return found.includes('GET') ? found.filter((method) => method !== 'HEAD') : found;
}

const registries = new WeakMap<SandboxContext, RegisteredRoute[]>();

/** Every route registered after `registerMethodNotAllowed` (tests walk them). */
export function registeredRoutes(ctx: SandboxContext): readonly RegisteredRoute[] {
  return registries.get(ctx) ?? [];
}

/**
 * A known path asked with a method it does not have answers 405 with an `Allow` header listing the
 * methods it has, in the error shape of the service that owns the path, instead of a 404: a
 * client that PUTs where the API wants PATCH learns so. Register on the root app before any
 * service, so the hook applies to every service's not-found handling.
 */
export function registerMethodNotAllowed(app: HttpApp, ctx: SandboxContext): void {
  const routes: RegisteredRoute[] = [];
  registries.set(ctx, routes);
  app.addHook('onRoute', (options) => {
    routes.push({ url: options.url, methods: [options.method].flat().map(String) });
  });
  app.addHook('onRequest', async (request, reply) => {
    if (!request.is404) return;
    const path = request.url.split('?')[0] ?? '';
    const allowed = allowedMethods(app, path);
    if (allowed.length === 0 || allowed.includes(request.method)) return;
    reply.status(405).header('allow', allowed.join(', '));
    rendererFor(path)(
      request,
      reply,
      `Method ${request.method} is not allowed on ${path}; allowed: ${allowed.join(', ')}`,
    );
    return reply;
  });
}
