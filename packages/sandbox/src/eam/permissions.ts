import type { FastifyRequest } from 'fastify';
import type { SandboxContext } from '../app/context.js';
import { authenticate } from '../auth/tokens.js';
import { CalmError } from '../shared/errors.js';

/**
 * The permission an admin request needs when a technical client (not the admin token) calls it,
 * or undefined for what the External API Management roles do not cover: destinations and
 * certificates live in the BTP subaccount, settings and situations belong to the sandbox itself.
 */
export function eamPermissionFor(method: string, path: string): string | undefined {
  const read = method === 'GET' || method === 'HEAD';
  if (/^\/admin\/projects\/[^/]+\/subscriptions(\/|$)/.test(path)) {
    return read ? 'eam.subscriptions.read' : 'eam.subscriptions.write';
  }
  const area = /^\/admin\/eam\/(subscriptions|webhooks|mappings|console)(\/|$)/.exec(path)?.[1];
  if (!area) return undefined;
  if (area === 'console') {
    if (read) return 'eam.console.read';
    // Resending re-runs a subscription's delivery; pruning is sandbox housekeeping.
    return /\/resend$/.test(path) ? 'eam.subscriptions.write' : undefined;
  }
  if (area === 'mappings' && path === '/admin/eam/mappings/validate') return 'eam.mappings.read';
  return `eam.${area}.${read ? 'read' : 'write'}`;
}

/** Lets technical clients holding `eam.access` plus the route's permission use the admin API. */
export function eamAdminAccess(ctx: SandboxContext): (request: FastifyRequest) => Promise<void> {
  return async (request) => {
    const principal = await authenticate(ctx, request.headers.authorization);
    const needed = eamPermissionFor(request.method, request.url.split('?')[0] ?? '');
    if (!needed) {
      throw new CalmError(403, 'This operation requires the admin token', { code: 'FORBIDDEN' });
    }
    for (const permission of ['eam.access', needed]) {
      if (!principal.scopes.has(permission)) {
        throw new CalmError(403, `Missing External API Management permission ${permission}`, {
          code: 'FORBIDDEN',
        });
      }
    }
  };
}
