import { setTimeout as sleep } from 'node:timers/promises';
import type { HttpApp } from '@calmhub/platform';
import type { SandboxContext } from '../app/context.js';
import { defaultCode } from '../shared/errors.js';
import { type ApiFamily, errorBody } from '../shared/family.js';

const MESSAGES: Record<number, string> = {
  429: 'Too many requests; retry later',
  500: 'Internal server error',
  502: 'Bad gateway',
  503: 'Service temporarily unavailable; retry later',
  504: 'Gateway timeout',
};

function familyOf(path: string): ApiFamily | 'oauth' {
  if (path.startsWith('/oauth/')) return 'oauth';
  return path.startsWith('/api/calm-features/') ? 'odata' : 'rest';
}

/** Only the emulated Cloud ALM surface can fail: the admin API and UI stay reachable to switch faults off. */
function faultable(path: string): boolean {
  return path.startsWith('/api/calm-') || path.startsWith('/oauth/');
}

export function registerFaultHook(app: HttpApp, ctx: SandboxContext): void {
  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    if (!faultable(path)) return;
    const decision = ctx.faults.decide(request.method, path);
    if (decision.latencyMs > 0) await sleep(decision.latencyMs);
    const terminal = decision.terminal;
    if (!terminal) return;
    const family = familyOf(path);
    if (terminal.kind === 'reset') {
      reply.hijack();
      request.raw.socket.resetAndDestroy();
      return reply;
    }
    if (terminal.kind === 'token-expiry') {
      reply
        .status(401)
        .header(
          'www-authenticate',
          'Bearer error="invalid_token", error_description="The access token has expired"',
        )
        .send(
          family === 'oauth'
            ? { error: 'invalid_token', error_description: 'The access token has expired' }
            : errorBody(family, {
                status: 401,
                code: 'UNAUTHORIZED',
                message: 'The access token has expired',
              }),
        );
      return reply;
    }
    const status = terminal.rule.status ?? 503;
    if (status === 429 || status === 503)
      reply.header('retry-after', String(terminal.rule.retryAfterSeconds));
    const message = MESSAGES[status] ?? `Injected fault ${status}`;
    reply.status(status).send(
      family === 'oauth'
        ? {
            error: status === 429 ? 'too_many_requests' : 'temporarily_unavailable',
            error_description: message,
          }
        : errorBody(family, {
            status,
            code: defaultCode(status),
            message,
          }),
    );
    return reply;
  });
}
