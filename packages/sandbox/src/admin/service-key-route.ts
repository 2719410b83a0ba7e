import type { HttpApp } from '@calmhub/platform';
import type { SandboxContext } from '../app/context.js';
import { buildServiceKey, clientSecret, defaultClient } from '../auth/clients.js';
import { CalmError } from '../shared/errors.js';

/**
 * `GET /admin/service-key`: the default technical client's service key (reference §1.1 layout,
 * §9 item 1), so a script can fetch it over HTTP instead of reading `service-key.json` from the
 * data directory. The body is byte-for-byte what start-up writes into that file.
 */
export function registerServiceKeyRoute(scope: HttpApp, ctx: SandboxContext, tenantId: string): void {
  scope.get(
    '/service-key',
    {
      schema: {
        tags: ['clients'],
        description: 'Requires `Authorization: Bearer <admin token>`.',
        summary: 'Service key of the default technical client (the content of service-key.json)',
        // No response schema: the body is the file's exact text, which a serializer would re-format.
      },
    },
    async (_request, reply) => {
      const client = await defaultClient(ctx.db);
      // Start-up creates the default client before it listens; only a deleted one is missing.
      if (!client) throw new CalmError(404, 'The default technical client does not exist (it was deleted)');
      const secret = await clientSecret(ctx, client.clientId);
      if (secret === undefined) {
        throw new CalmError(
          409,
          'The secret of the default client was sealed with another master key; rotate it with POST /admin/clients/{clientId}/secret',
        );
      }
      const key = buildServiceKey(ctx, client, secret, tenantId);
      // Formatted like the file (two-space indent, final newline); Fastify sends a string as is.
      return reply.type('application/json; charset=utf-8').send(`${JSON.stringify(key, null, 2)}\n`);
    },
  );
}
