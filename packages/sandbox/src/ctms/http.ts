import type { HttpApp } from '@calmhub/platform';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { SandboxContext } from '../app/context.js';
import { useFaults as useSandboxFaults } from '../faults/hook.js';
import { CalmError } from '../shared/errors.js';
import { getMeta } from '../store/meta.js';

/**
 * Plumbing shared by the CTMS and Cloud Integration emulators: each renders errors in its own
 * service's shape, so they pass a renderer and keep the rest (parsing, faults, 4xx mapping) here.
 */
export type ErrorRenderer = (reply: FastifyReply, error: CalmError) => FastifyReply;

/** Empty JSON bodies are fine (Piper posts some calls without one); malformed JSON is a 400. */
export function useLenientJson(scope: HttpApp): void {
  scope.removeContentTypeParser('application/json');
  scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = body as string;
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new CalmError(400, 'The request body is not valid JSON'));
    }
  });
}

/**
 * The sandbox's fault rules (`/admin/faults`) applied to this service's prefix, answered in the
 * service's own error shape.
 */
export function useFaults(scope: HttpApp, ctx: SandboxContext, render: ErrorRenderer): void {
  useSandboxFaults(scope, ctx.faults, { render: (reply, fault) => render(reply, fault) });
}

/** Everything thrown in the scope becomes the service's error shape; only real bugs are 500s. */
export function useErrorShape(scope: HttpApp, render: ErrorRenderer): void {
  scope.setErrorHandler((error: FastifyError | CalmError | Error, request: FastifyRequest, reply) => {
    if (error instanceof CalmError) return render(reply, error);
    const fastifyError = error as FastifyError;
    if (fastifyError.validation) return render(reply, new CalmError(400, fastifyError.message));
    const status = fastifyError.statusCode;
    if (status && status >= 400 && status < 500) {
      const message =
        status === 415
          ? `Unsupported media type: ${request.headers['content-type'] ?? 'none'}`
          : fastifyError.message;
      return render(reply, new CalmError(status, message));
    }
    request.log.error({ err: error }, 'sandbox service error');
    return render(reply, new CalmError(500, 'Internal server error'));
  });
  scope.setNotFoundHandler((request, reply) => {
    render(reply, new CalmError(404, `No resource found for ${request.method} ${request.url.split('?')[0]}`));
  });
}

/** The sandbox's tenant id, stable across restarts (one per database). */
export async function tenantOf(ctx: SandboxContext): Promise<string> {
  return (await getMeta(ctx.db, 'tenant_id')) ?? 'default';
}
