import type { HttpApp } from '@calmhub/platform';
import '../shared/fastify-schema.js';
import type { EamRuntime } from './runtime.js';
import {
  cancelWorkflow,
  deleteWorkflowSetting,
  getWorkflow,
  listWorkflowSettings,
  listWorkflows,
  pingWorkflows,
  putWorkflowSetting,
  startWorkflow,
} from './workflows.js';

const doc = (tag: string, summary: string) => ({
  schema: { tags: [tag], summary, description: 'Requires `Authorization: Bearer <admin token>`.' },
});
type Id = { Params: { id: string } };
type SettingParams = { Params: { projectId: string; workflowType: string } };

/** Workflow settings per project and the workflow simulator (reference §10 item 2). */
export async function registerWorkflowRoutes(scope: HttpApp, runtime: EamRuntime): Promise<void> {
  scope.get<{ Params: { projectId: string } }>(
    '/projects/:projectId/workflow-settings',
    doc('workflows', 'Which subscription handles which workflow type in a project'),
    async (request) => listWorkflowSettings(runtime.db, request.params.projectId),
  );
  scope.put<SettingParams>(
    '/projects/:projectId/workflow-settings/:workflowType',
    doc('workflows', 'Assign a WORKFLOW subscription to a workflow type ({subscriptionId})'),
    async (request) =>
      putWorkflowSetting(runtime, request.params.projectId, request.params.workflowType, request.body),
  );
  scope.delete<SettingParams>(
    '/projects/:projectId/workflow-settings/:workflowType',
    doc('workflows', 'Remove the workflow setting of a type'),
    async (request, reply) => {
      await deleteWorkflowSetting(runtime, request.params.projectId, request.params.workflowType);
      return reply.status(204).send();
    },
  );

  scope.get<{ Querystring: { projectId?: string; itemId?: string } }>(
    '/workflows',
    doc('workflows', 'Workflows, newest first (filters: projectId, itemId)'),
    async (request) =>
      listWorkflows(runtime, { projectId: request.query.projectId, itemId: request.query.itemId }),
  );
  scope.post(
    '/workflows',
    doc(
      'workflows',
      'Start a workflow (WORKFLOW.STARTED): {workflowType, itemId, triggeredBy?, targetStatusCode?}; documents: {item, projectId}',
    ),
    async (request, reply) => reply.status(201).send(await startWorkflow(runtime, request.body)),
  );
  scope.post(
    '/workflows/ping',
    doc('workflows', 'Refresh every running workflow now (WORKFLOW.PING)'),
    async (_request, reply) => reply.status(202).send({ queued: await pingWorkflows(runtime) }),
  );
  scope.get<Id>(
    '/workflows/:id',
    doc('workflows', 'One workflow with its external fields'),
    async (request) => getWorkflow(runtime, request.params.id),
  );
  scope.post<Id>(
    '/workflows/:id/cancel',
    doc('workflows', 'Cancel a running workflow (WORKFLOW.CANCELED)'),
    async (request) => cancelWorkflow(runtime, request.params.id),
  );
  scope.post<Id>(
    '/workflows/:id/ping',
    doc('workflows', 'Refresh one workflow now (WORKFLOW.PING)'),
    async (request, reply) => {
      await getWorkflow(runtime, request.params.id);
      return reply.status(202).send({ queued: await pingWorkflows(runtime, request.params.id) });
    },
  );
}
