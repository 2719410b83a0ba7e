import { setTimeout as sleep } from 'node:timers/promises';
import type { HttpApp } from '@calmhub/platform';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SandboxContext } from '../app/context.js';
import { CalmError, defaultCode } from '../shared/errors.js';
import { type ApiFamily, errorBody } from '../shared/family.js';
import type { FaultDecision, FaultInjector } from './fault-injector.js';

const MESSAGES: Record<number, string> = {
  429: 'Too many requests; retry later',
  500: 'Internal server error',
  502: 'Bad gateway',
  503: 'Service temporarily unavailable; retry later',
  504: 'Gateway timeout',
};

/** The error an injected fault stands for; each emulated service renders it in its own shape. */
export function faultError(terminal: NonNullable<FaultDecision['terminal']>): CalmError {
  if (terminal.kind === 'token-expiry') {
    return new CalmError(401, 'The access token has expired', {
      code: 'UNAUTHORIZED',
      headers: {
        'www-authenticate': 'Bearer error="invalid_token", error_description="The access token has expired"',
      },
    });
  }
  const status = terminal.rule.status ?? 503;
  const headers: Record<string, string> =
    status === 429 || status === 503 ? { 'retry-after': String(terminal.rule.retryAfterSeconds) } : {};
  return new CalmError(status, MESSAGES[status] ?? `Injected fault ${status}`, { headers });
}

export interface FaultHookOptions {
  /** The path rules match against, or undefined for requests that must never fail. */
  pathOf?: (requestPath: string) => string | undefined;
  render: (reply: FastifyReply, fault: CalmError, request: FastifyRequest) => unknown;
}

/** Marks a request whose answer a `lost-response` fault will swallow (set in onRequest, read in onSend). */
const LOSE_RESPONSE = Symbol('calmhub.lose-response');
type Marked = FastifyRequest & { [LOSE_RESPONSE]?: true };

/** True once a fault took the request's connection down (`reset`, `lost-response`). */
export const CONNECTION_DROPPED = Symbol.for('calmhub.fault.connection-dropped');

function dropConnection(request: FastifyRequest): void {
  (request.raw as unknown as Record<symbol, boolean>)[CONNECTION_DROPPED] = true;
  request.raw.socket.resetAndDestroy();
}

/**
 * Applies an injector's rules to every request of `scope`: added latency, then at most one
 * terminal fault (status with Retry-After, expired token, or a connection reset), all before the
 * handler runs. A `lost-response` fault is the exception: the request is handled and committed,
 * then the connection is reset instead of the answer being sent.
 */
export function useFaults(scope: HttpApp, injector: FaultInjector, options: FaultHookOptions): void {
  scope.addHook('onRequest', async (request, reply) => {
    const requestPath = request.url.split('?')[0] ?? '';
    const path = options.pathOf ? options.pathOf(requestPath) : requestPath;
    if (path === undefined) return;
    const decision = injector.decide(request.method, path);
    if (decision.latencyMs > 0) await sleep(decision.latencyMs);
    const terminal = decision.terminal;
    if (!terminal) return;
    if (terminal.kind === 'lost-response') {
      (request as Marked)[LOSE_RESPONSE] = true;
      return;
    }
    if (terminal.kind === 'reset') {
      reply.hijack();
      dropConnection(request);
      return reply;
    }
    options.render(reply, faultError(terminal), request);
    return reply;
  });
  // onSend runs after the handler (and its transaction) finished, just before the answer is
  // written: the effect is kept, the client gets a connection error instead of the answer.
  scope.addHook('onSend', async (request, reply, payload) => {
    if (!(request as Marked)[LOSE_RESPONSE]) return payload;
    reply.hijack();
    dropConnection(request);
    return payload;
  });
}

function familyOf(path: string): ApiFamily | 'oauth' {
  if (path.startsWith('/oauth/')) return 'oauth';
  return path.startsWith('/api/calm-features/') ? 'odata' : 'rest';
}

/** The Cloud ALM surface. The admin API and UI stay reachable, so faults can be switched off. */
export function registerFaultHook(app: HttpApp, ctx: SandboxContext): void {
  useFaults(app, ctx.faults, {
    pathOf: (path) => (path.startsWith('/api/calm-') || path.startsWith('/oauth/') ? path : undefined),
    render: (reply, fault, request) => {
      const family = familyOf(request.url.split('?')[0] ?? '');
      const oauthError =
        fault.status === 401
          ? 'invalid_token'
          : fault.status === 429
            ? 'too_many_requests'
            : 'temporarily_unavailable';
      reply
        .status(fault.status)
        .headers(fault.headers)
        .send(
          family === 'oauth'
            ? { error: oauthError, error_description: fault.message }
            : errorBody(family, {
                status: fault.status,
                code: fault.status === 401 ? fault.code : defaultCode(fault.status),
                message: fault.message,
              }),
        );
    },
  });
}
