import { createHash, timingSafeEqual } from 'node:crypto';
import { AppError, codeForStatus, type HttpApp, installErrorHandler } from '@calmhub/platform';
import type { FastifyRequest } from 'fastify';
import { CalmError } from '../shared/errors.js';

/** Apps whose `/admin` prefix already has its not-found handler (Fastify allows one per prefix). */
const notFoundInstalled = new WeakSet<object>();

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * Registers `routes` under `/admin`, behind `Authorization: Bearer <admin token>` and with
 * calmhub's error contract. Every domain that has admin routes registers its own scope here,
 * so domains never edit each other's route files.
 */
export async function registerAdminScope(
  app: HttpApp,
  adminToken: string,
  routes: (scope: HttpApp) => void | Promise<void>,
  /**
   * Lets callers other than the admin token in (e.g. technical clients holding a module's
   * permissions): resolves to grant, throws a 401/403 CalmError to refuse.
   */
  authorize?: (request: FastifyRequest) => Promise<void>,
): Promise<void> {
  const expected = sha256(adminToken);
  await app.register(
    async (plain) => {
      // Encapsulated plugins lose the TypeBox provider in their types; the instance keeps it.
      const scope = plain as unknown as HttpApp;
      scope.addHook('onRequest', async (request) => {
        if (request.url.split('?')[0] === '/admin/openapi.json') return;
        const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
        // Hashing both sides gives equal lengths, so the comparison is constant-time.
        const isAdmin = match?.[1] !== undefined && timingSafeEqual(sha256(match[1]), expected);
        if (!isAdmin && authorize && match?.[1]) return authorize(request);
        if (!isAdmin) {
          throw new CalmError(401, 'A valid admin token is required (Authorization: Bearer <admin token>)', {
            headers: { 'www-authenticate': 'Bearer realm="calm-sandbox-admin"' },
          });
        }
      });
      // Every later admin scope (a module's registerAdmin) shares the first one's not-found handler;
      // installing another for the same prefix would fail with a duplicate route.
      const target = notFoundInstalled.has(app)
        ? new Proxy(scope, {
            get: (inner, property) =>
              property === 'setNotFoundHandler' ? () => inner : Reflect.get(inner, property, inner),
          })
        : scope;
      notFoundInstalled.add(app);
      // The emulator's CalmError maps onto calmhub's closed set of codes.
      installErrorHandler(target, {
        translate: (error) =>
          error instanceof CalmError
            ? new AppError(codeForStatus(error.status), error.message, { headers: error.headers })
            : undefined,
      });
      await routes(scope);
    },
    { prefix: '/admin' },
  );
}
