import type { ServerResponse } from 'node:http';
import type { HttpApp } from '@calmhub/platform';
import Type from 'typebox';
import { requireProjectAction } from '../access/authorize.js';
import type { HubDeps } from '../app/deps.js';
import { AUTH_ERRORS, errors, IdParams, listOf } from '../http/schemas.js';
import { loadStory } from '../stories/load-story.js';
import { abortRun, decideApproval, requestRollback, retryRun } from './operate-run.js';
import { promoteStory } from './promote-story.js';
import { eventsAfter, getRun, listRuns, pipelineStatus, viewRun } from './read-runs.js';
import {
  ApproveBody,
  PipelineStatusView,
  PromoteBody,
  RollbackBody,
  RunEventsQuery,
  RunEventView,
  RunsQuery,
  RunView,
  RunWithTimeline,
  TaskView,
} from './schemas.js';

const STREAM_POLL_MS = 250;
const HEARTBEAT_MS = 15_000;

export function registerRunRoutes(app: HttpApp, deps: HubDeps): void {
  for (const schema of [TaskView, RunView, RunEventView, RunWithTimeline, PipelineStatusView])
    app.addSchema(schema);
  const tags = ['runs'];
  const run = Type.Ref('Run');
  const operated = async (id: string) =>
    (await viewRun(deps.db, id)) as NonNullable<Awaited<ReturnType<typeof viewRun>>>;

  app.post(
    '/api/v1/stories/:id/promote',
    {
      config: { action: 'runs.promote' },
      schema: {
        tags,
        summary: "Promote a story into its pipeline's next stage (runs that stage's tasks)",
        description:
          'Allowed from a stage that passed (or to enter a failed or aborted stage again). 409 names where the story is ' +
          'and why it cannot move. The run goes on in the background: follow it at /api/v1/runs/{id} or the run-events stream.',
        params: IdParams,
        body: PromoteBody,
        response: { 202: run, ...errors(...AUTH_ERRORS, 409) },
      },
    },
    async (request, reply) => {
      const started = await promoteStory(deps, request.actor, request.params.id, request.body, request.id);
      return reply.status(202).send(await operated(started.id));
    },
  );
  app.get(
    '/api/v1/stories/:id/pipeline-status',
    {
      config: { action: 'pipelines.read' },
      schema: {
        tags,
        summary:
          "A story's pipeline status: its stage, that stage's state, and the latest run with its tasks",
        params: IdParams,
        response: { 200: Type.Ref('PipelineStatus'), ...errors(...AUTH_ERRORS) },
      },
    },
    async (request) => pipelineStatus(deps, request.actor, request.params.id),
  );
  app.get(
    '/api/v1/runs',
    {
      config: { action: 'pipelines.read' },
      schema: {
        tags,
        summary: 'Runs of a project or a story, newest first',
        querystring: RunsQuery,
        response: { 200: listOf(run), ...errors(...AUTH_ERRORS) },
      },
    },
    async (request) => ({ items: await listRuns(deps, request.actor, request.query) }),
  );
  app.get(
    '/api/v1/runs/:id',
    {
      config: { action: 'pipelines.read' },
      schema: {
        tags,
        summary: 'A run with its tasks (state, logs, results) and its timeline',
        params: IdParams,
        response: { 200: Type.Ref('RunWithTimeline'), ...errors(...AUTH_ERRORS) },
      },
    },
    async (request) => getRun(deps, request.actor, request.params.id),
  );
  app.post(
    '/api/v1/runs/:id/approve',
    {
      config: { action: 'runs.approve' },
      schema: {
        tags,
        summary: 'Approve or reject the run’s waiting approval task',
        description:
          'Segregation of duties: the promoter and the story’s developers (its Cloud ALM assignee, the owners of its ' +
          'transports, whoever attached its components) get 403. The decision keeps its evidence: who, role, when, and ' +
          'the components and versions approved.',
        params: IdParams,
        body: ApproveBody,
        response: { 200: run, ...errors(...AUTH_ERRORS, 409) },
      },
    },
    async (request) => {
      await decideApproval(deps, request.actor, request.params.id, request.body, request.id);
      return operated(request.params.id);
    },
  );
  const operations = [
    ['retry', "Run a failed run's failed task again", retryRun],
    ['abort', 'Abort a running, waiting or failed run', abortRun],
  ] as const;
  for (const [verb, summary, operate] of operations)
    app.post(
      `/api/v1/runs/:id/${verb}`,
      {
        config: { action: 'runs.operate' },
        schema: { tags, summary, params: IdParams, response: { 200: run, ...errors(...AUTH_ERRORS, 409) } },
      },
      async (request) => {
        await operate(deps, request.actor, request.params.id, request.id);
        return operated(request.params.id);
      },
    );
  app.post(
    '/api/v1/runs/:id/rollback',
    {
      config: { action: 'runs.operate' },
      schema: {
        tags,
        summary: 'Deploy again the Cloud Integration versions a deployment task backed up',
        params: IdParams,
        body: RollbackBody,
        response: { 202: run, ...errors(...AUTH_ERRORS, 409) },
      },
    },
    async (request, reply) => {
      await requestRollback(deps, request.actor, request.params.id, request.body.taskKey, request.id);
      return reply.status(202).send(await operated(request.params.id));
    },
  );
  registerRunEventStream(app, deps);
}

/** Server-sent events: the project's run timeline, live. Streams end when the hub closes. */
function registerRunEventStream(app: HttpApp, deps: HubDeps): void {
  const open = new Set<ServerResponse>();
  app.addHook('preClose', async () => {
    for (const response of open) response.end();
  });
  app.get(
    '/api/v1/projects/:id/run-events',
    {
      config: { action: 'pipelines.read' },
      schema: {
        tags: ['runs'],
        summary:
          'Pipeline status, pushed live (text/event-stream): every run and task transition of the project',
        description:
          'Each event: `id` (resume with Last-Event-ID or `after`), `event` (run or task), `data` (a RunEvent as JSON). ' +
          '`follow=false` sends what is there and ends.',
        params: IdParams,
        querystring: RunEventsQuery,
        produces: ['text/event-stream'],
        response: { 200: Type.String({ description: 'text/event-stream' }), ...errors(...AUTH_ERRORS) },
      },
    },
    async (request, reply) => {
      const projectId = request.params.id;
      await requireProjectAction(deps.db, request.actor, projectId, 'pipelines.read');
      const { storyId, follow = true } = request.query;
      if (storyId) {
        const story = await loadStory(deps, request.actor, storyId, 'pipelines.read');
        if (story.project_id !== projectId) return reply.status(200).type('text/event-stream').send('');
      }
      const lastEventId = Number(request.headers['last-event-id']);
      let after = request.query.after ?? (Number.isSafeInteger(lastEventId) ? lastEventId : 0);
      const tenantId = request.actor.tenantId;
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-request-id': request.id,
      });
      // Sends the headers now: a client waits for them before it reads any event.
      raw.write('retry: 2000\n\n');
      const flush = async () => {
        const events = await eventsAfter(deps.db, tenantId, projectId, after, storyId);
        for (const event of events) {
          raw.write(`id: ${event.id}\nevent: ${event.kind}\ndata: ${JSON.stringify(event)}\n\n`);
          after = event.id;
        }
        return events.length;
      };
      try {
        while ((await flush()) === 500);
      } catch (error) {
        request.log.warn({ err: error }, 'run-events stream failed');
        raw.end();
        return;
      }
      if (!follow) {
        raw.end();
        return;
      }
      open.add(raw);
      let busy = false;
      let lastWrite = Date.now();
      const timer = setInterval(async () => {
        if (busy) return;
        busy = true;
        try {
          if ((await flush()) > 0) lastWrite = Date.now();
          else if (Date.now() - lastWrite > HEARTBEAT_MS) {
            raw.write(': keep-alive\n\n');
            lastWrite = Date.now();
          }
        } catch {
          raw.end();
        } finally {
          busy = false;
        }
      }, STREAM_POLL_MS);
      raw.on('close', () => {
        clearInterval(timer);
        open.delete(raw);
      });
    },
  );
}
