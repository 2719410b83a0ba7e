import { AppError, type HttpApp } from '@calmhub/platform';
import type { Actor } from '../access/actor.js';
import { requireTenantAction } from '../access/authorize.js';
import { isProjectAction, type RouteAction } from '../access/permissions.js';
import { authenticateToken } from '../access/tokens.js';
import type { HubDeps } from '../app/deps.js';

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor;
  }
  interface FastifyContextConfig {
    /** The action a route needs; every hub route declares one (a test walks the route table). */
    action?: RouteAction;
  }
}

function bearer(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/**
 * Authenticates every route that does not declare `public`, and checks tenant-scoped actions.
 * Project-scoped actions need the object's project, so operations check them with
 * `requireProjectAction` once they have loaded it.
 */
export function installAuth(app: HttpApp, deps: Pick<HubDeps, 'db' | 'clock'>): void {
  app.decorateRequest('actor', undefined as unknown as Actor);
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/api/v1/')) return;
    if (!route.config?.action) throw new Error(`route ${route.method} ${route.url} declares no action`);
  });
  app.addHook('onRequest', async (request) => {
    const action = request.routeOptions.config?.action;
    if (action === undefined || action === 'public') return;
    request.actor = await authenticateToken(deps, bearer(request.headers.authorization));
    if (action !== 'self' && !isProjectAction(action)) requireTenantAction(request.actor, action);
  });
}

export function unreachable(value: never): never {
  throw new AppError('internal', `unexpected value ${String(value)}`);
}
