import Type, { type Static } from 'typebox';
import { NullableTimestamp, Timestamp, Uuid } from '../http/schemas.js';

const LogLine = Type.Object({ at: Timestamp, level: Type.String(), message: Type.String() });

export const TaskView = Type.Object(
  {
    key: Type.String({ description: '`<phase>.<index>` in the run’s pipeline version' }),
    phase: Type.String(),
    type: Type.String(),
    name: Type.String(),
    state: Type.String({ description: 'pending, running, waiting, passed, failed, skipped, aborted' }),
    attempt: Type.Integer(),
    startedAt: NullableTimestamp,
    endedAt: NullableTimestamp,
    result: Type.Unknown({
      description: 'What the task found or did (checks, approvals, imports with their log, deployments)',
    }),
    log: Type.Array(LogLine),
  },
  { $id: 'RunTask' },
);

export const RunEventView = Type.Object(
  {
    id: Type.Integer(),
    runId: Uuid,
    storyId: Uuid,
    at: Timestamp,
    kind: Type.String(),
    stage: Type.String(),
    task: Type.Union([Type.String(), Type.Null()]),
    state: Type.String(),
    actor: Type.String(),
    message: Type.String(),
  },
  { $id: 'RunEvent' },
);

export const RunView = Type.Object(
  {
    id: Uuid,
    projectId: Uuid,
    storyId: Uuid,
    pipelineId: Uuid,
    pipelineVersion: Type.Integer(),
    stage: Type.String(),
    fromStage: Type.String(),
    state: Type.String({ description: 'running, waiting, passed, failed, aborted' }),
    requestedBy: Type.String({ description: 'The promoter: a user’s e-mail or the integration’s name' }),
    promotionRequestId: Type.Union([Type.String(), Type.Null()]),
    createdAt: Timestamp,
    endedAt: NullableTimestamp,
    tasks: Type.Array(Type.Ref('RunTask')),
  },
  { $id: 'Run' },
);

export const RunWithTimeline = Type.Object(
  { run: Type.Ref('Run'), timeline: Type.Array(Type.Ref('RunEvent')) },
  { $id: 'RunWithTimeline' },
);

export const PipelineStatusView = Type.Object(
  {
    storyId: Uuid,
    pipeline: Type.Union([
      Type.Object({ id: Uuid, name: Type.String(), version: Type.Integer() }),
      Type.Null(),
    ]),
    stage: Type.Union([
      Type.Object({ key: Type.String(), name: Type.String(), index: Type.Integer() }),
      Type.Null(),
    ]),
    state: Type.Union([Type.String(), Type.Null()]),
    stages: Type.Array(
      Type.Object({
        key: Type.String(),
        name: Type.String(),
        state: Type.String({ description: 'passed, current, upcoming' }),
      }),
    ),
    nextStage: Type.Union([Type.String(), Type.Null()], {
      description: 'Where a promotion would move it now; null when none can',
    }),
    run: Type.Union([Type.Ref('Run'), Type.Null()]),
  },
  { $id: 'PipelineStatus' },
);

export const PromoteBody = Type.Object(
  {
    targetStage: Type.Optional(
      Type.String({ minLength: 1, maxLength: 40, description: 'Must be the next stage; checks intent' }),
    ),
  },
  { additionalProperties: false },
);

export const ApproveBody = Type.Object(
  {
    decision: Type.Union([Type.Literal('approve'), Type.Literal('reject')]),
    comment: Type.String({ maxLength: 2000 }),
    taskKey: Type.Optional(Type.String({ maxLength: 40 })),
  },
  { additionalProperties: false },
);

export const RollbackBody = Type.Object(
  { taskKey: Type.String({ minLength: 1, maxLength: 40 }) },
  { additionalProperties: false },
);

export const RunsQuery = Type.Object(
  {
    projectId: Type.Optional(Uuid),
    storyId: Type.Optional(Uuid),
    state: Type.Optional(Type.String({ maxLength: 20 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  },
  { additionalProperties: false },
);

export const RunEventsQuery = Type.Object(
  {
    storyId: Type.Optional(Uuid),
    after: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: 'Replay events after this id (also the Last-Event-ID header)',
      }),
    ),
    follow: Type.Optional(Type.Boolean({ default: true, description: 'false: send what is there and end' })),
  },
  { additionalProperties: false },
);

export type ApproveBody = Static<typeof ApproveBody>;
export type RunsQuery = Static<typeof RunsQuery>;
