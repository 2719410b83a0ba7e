import { type HttpApp, readJson } from '@calmhub/platform';
import '../shared/fastify-schema.js';
import { asBody, rejectUnknown, str } from '../shared/body.js';
import { badRequest, CalmError } from '../shared/errors.js';
import { ensureSapBuildClient } from './auth.js';
import { SapBuildError } from './errors.js';
import { finishInstance, listInstances, render } from './instances.js';
import { apiUrl, type SapBuildRuntime } from './runtime.js';

const doc = (summary: string) => ({
  schema: { tags: ['sap-build'], summary, description: 'Requires `Authorization: Bearer <admin token>`.' },
});

/** Admin answers use calmhub's error contract, not the workflow API's. */
function toCalm(error: unknown): never {
  if (error instanceof SapBuildError) throw new CalmError(error.status, error.message);
  throw error;
}

export function sapBuildCredentials(runtime: SapBuildRuntime) {
  return ensureSapBuildClient(runtime.ctx, runtime).then((client) => ({
    apiUrl: apiUrl(runtime.ctx),
    workflowInstancesUrl: `${apiUrl(runtime.ctx)}/workflow/rest/v1/workflow-instances`,
    tokenUrl: `${apiUrl(runtime.ctx)}/oauth/token`,
    ...client,
  }));
}

export async function registerSapBuildAdmin(scope: HttpApp, runtime: SapBuildRuntime): Promise<void> {
  const { ctx, db } = runtime;
  scope.get('/sap-build/credentials', doc('Workflow API URL, token URL and the OAuth client'), async () =>
    sapBuildCredentials(runtime),
  );
  scope.get('/sap-build/stats', doc('Tokens issued since start'), async () => ({ ...runtime.stats }));
  scope.get('/sap-build/instances', doc('All workflow instances with context and outputs'), async () =>
    (await listInstances(db, {})).map((row) => ({
      ...render(row),
      context: readJson(row.context),
      outputs: row.outputs === null ? null : readJson(row.outputs),
    })),
  );
  scope.post<{ Params: { id: string } }>(
    '/sap-build/instances/:id/complete',
    doc(
      'End a running instance as its approvers would: {status?: "COMPLETED" (default) | "ERRONEOUS", outputs?: object}',
    ),
    async (request) => {
      const body = asBody(request.body ?? {});
      rejectUnknown(body, ['status', 'outputs']);
      const outputs = body.outputs ?? {};
      if (outputs === null || typeof outputs !== 'object' || Array.isArray(outputs))
        throw badRequest("Property 'outputs' must be a JSON object");
      try {
        return render(
          await finishInstance(
            db,
            request.params.id,
            str(body, 'status') ?? 'COMPLETED',
            outputs as Record<string, unknown>,
            ctx.now(),
          ),
        );
      } catch (error) {
        toCalm(error);
      }
    },
  );
}
