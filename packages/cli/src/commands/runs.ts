import { clientFlagsHelp, required, runClient } from '../client/client-command.js';
import { type Column, printFields, printJson, printTable } from '../client/output.js';
import type { Command, Io } from './command.js';
import { findProject } from './credentials.js';
import { findStory } from './stories.js';

interface RunTask {
  key: string;
  phase: string;
  type: string;
  name: string;
  state: string;
  attempt: number;
  startedAt: string | null;
  endedAt: string | null;
  log: Array<{ at: string; level: string; message: string }>;
}

interface Run {
  id: string;
  storyId: string;
  stage: string;
  fromStage: string;
  state: string;
  requestedBy: string;
  createdAt: string;
  endedAt: string | null;
  tasks: RunTask[];
}

interface RunEvent {
  id: number;
  at: string;
  stage: string;
  task: string | null;
  state: string;
  actor: string;
  message: string;
}

const runColumns: Column<Run>[] = [
  ['started', (r) => r.createdAt],
  ['stage', (r) => `${r.fromStage} → ${r.stage}`],
  ['state', (r) => r.state],
  ['by', (r) => r.requestedBy],
  ['tasks', (r) => r.tasks.map((t) => `${t.name}: ${t.state}`).join(', ')],
  ['id', (r) => r.id],
];

const timelineColumns: Column<RunEvent>[] = [
  ['at', (e) => e.at],
  ['stage', (e) => e.stage],
  ['task', (e) => e.task ?? ''],
  ['state', (e) => e.state],
  ['actor', (e) => e.actor],
  ['message', (e) => e.message],
];

function printRun(io: Io, run: Run): void {
  printFields(io, [
    ['run', run.id],
    ['stage', `${run.fromStage} → ${run.stage}`],
    ['state', run.state],
    ['promoted by', run.requestedBy],
  ]);
  printTable(io, run.tasks, [
    ['task', (t) => t.key],
    ['name', (t) => t.name],
    ['state', (t) => t.state],
    ['attempt', (t) => t.attempt + 1],
    ['ended', (t) => t.endedAt ?? ''],
  ]);
}

export const promoteCommand: Command = {
  name: 'promote',
  summary: "promote a story into its pipeline's next stage",
  help: [
    'Usage: calmhub promote <story> [--project P] [--stage KEY] [--json]',
    '',
    'The story by hub id, or by Cloud ALM display id. --stage checks that KEY is the next stage.',
    '',
    clientFlagsHelp,
  ].join('\n'),
  run: (args, io) =>
    runClient(
      args,
      io,
      { project: { type: 'string' }, stage: { type: 'string' } },
      async ({ api, values, positionals, json }) => {
        const story = await findStory(api, required(positionals[0], 'story (argument)'), values.project);
        const run = await api.post<Run>(
          `/api/v1/stories/${story.id}/promote`,
          values.stage ? { targetStage: values.stage } : {},
        );
        json ? printJson(io, run) : printRun(io, run);
        return 0;
      },
    ),
};

export const runsCommand: Command = {
  name: 'runs',
  summary: 'pipeline runs of a project or a story, or one run with its timeline',
  help: [
    'Usage: calmhub runs --project P [--state S] [--limit N] [--json]',
    '       calmhub runs --story S [--project P] [--json]      (every run of the story, each with its timeline)',
    '       calmhub runs <run id> [--json]                      (tasks, logs and timeline)',
    '',
    clientFlagsHelp,
  ].join('\n'),
  run: (args, io) =>
    runClient(
      args,
      io,
      {
        project: { type: 'string' },
        story: { type: 'string' },
        state: { type: 'string' },
        limit: { type: 'string' },
      },
      async ({ api, values, positionals, json }) => {
        if (positionals[0]) {
          const { run, timeline } = await api.get<{ run: Run; timeline: RunEvent[] }>(
            `/api/v1/runs/${encodeURIComponent(positionals[0])}`,
          );
          if (json) {
            printJson(io, { run, timeline });
            return 0;
          }
          printRun(io, run);
          for (const task of run.tasks.filter((t) => t.log.length > 0)) {
            io.stdout.write(`\n${task.key} ${task.name}\n`);
            for (const line of task.log)
              io.stdout.write(`  ${line.at} ${line.level.padEnd(5)} ${line.message}\n`);
          }
          io.stdout.write('\n');
          printTable(io, timeline, timelineColumns);
          return 0;
        }
        const query = new URLSearchParams();
        if (values.story) query.set('storyId', (await findStory(api, values.story, values.project)).id);
        else
          query.set(
            'projectId',
            (await findProject(api, required(values.project, 'project (or --story)'))).id,
          );
        if (values.state) query.set('state', values.state);
        if (values.limit) query.set('limit', values.limit);
        const { items } = await api.get<{ items: Run[] }>(`/api/v1/runs?${query}`);
        if (!values.story) {
          json ? printJson(io, items) : printTable(io, items, runColumns);
          return 0;
        }
        const withTimelines = [];
        for (const run of items)
          withTimelines.push(await api.get<{ run: Run; timeline: RunEvent[] }>(`/api/v1/runs/${run.id}`));
        if (json) {
          printJson(io, withTimelines);
          return 0;
        }
        for (const { run, timeline } of withTimelines) {
          printFields(io, [['run', `${run.id} ${run.fromStage} → ${run.stage} ${run.state}`]]);
          printTable(io, timeline, timelineColumns);
          io.stdout.write('\n');
        }
        return 0;
      },
    ),
};

const runAction = (name: string, path: string, summary: string, extra = ''): Command => ({
  name,
  summary,
  help: [`Usage: calmhub ${name} <run id>${extra} [--json]`, '', clientFlagsHelp].join('\n'),
  run: (args, io) =>
    runClient(args, io, { task: { type: 'string' } }, async ({ api, values, positionals, json }) => {
      const id = encodeURIComponent(required(positionals[0], 'run id (argument)'));
      const run = await api.post<Run>(
        `/api/v1/runs/${id}/${path}`,
        path === 'rollback' ? { taskKey: required(values.task, 'task') } : undefined,
      );
      json ? printJson(io, run) : printRun(io, run);
      return 0;
    }),
});

export const retryCommand = runAction('retry', 'retry', "run a failed run's failed task again");
export const abortCommand = runAction('abort', 'abort', 'abort a running, waiting or failed run');
export const rollbackCommand = runAction(
  'rollback',
  'rollback',
  'deploy again the Cloud Integration versions a deployment task backed up',
  ' --task <task key>',
);

export const approveCommand: Command = {
  name: 'approve',
  summary: "approve (or --reject) a run's waiting approval task",
  help: [
    'Usage: calmhub approve <run id> --comment C [--reject] [--task KEY] [--json]',
    '',
    'Segregation of duties: the promoter and the story’s developers cannot approve (403).',
    '',
    clientFlagsHelp,
  ].join('\n'),
  run: (args, io) =>
    runClient(
      args,
      io,
      { comment: { type: 'string' }, reject: { type: 'boolean' }, task: { type: 'string' } },
      async ({ api, values, positionals, json }) => {
        const id = encodeURIComponent(required(positionals[0], 'run id (argument)'));
        const run = await api.post<Run>(`/api/v1/runs/${id}/approve`, {
          decision: values.reject ? 'reject' : 'approve',
          comment: required(values.comment, 'comment'),
          ...(values.task ? { taskKey: values.task } : {}),
        });
        json ? printJson(io, run) : printRun(io, run);
        return 0;
      },
    ),
};
