import Type from 'typebox';
import { NullableTimestamp, Timestamp, Uuid } from '../http/schemas.js';

export const SyncModeSchema = Type.Union(
  [Type.Literal('full'), Type.Literal('delta'), Type.Literal('sweep')],
  {
    description:
      'full: everything of the project; delta: what changed since the last watermark; sweep: ids only, to find deletions.',
  },
);

export const SyncRunView = Type.Object(
  {
    id: Uuid,
    integrationId: Uuid,
    mode: SyncModeSchema,
    state: Type.Union([
      Type.Literal('queued'),
      Type.Literal('running'),
      Type.Literal('succeeded'),
      Type.Literal('failed'),
    ]),
    requestedBy: Type.String({ description: 'A user id, or `schedule` for the reconcile.' }),
    progress: Type.Object({
      phase: Type.String(),
      pages: Type.Integer(),
      items: Type.Integer(),
      waitingUntil: Type.Union([Type.String(), Type.Null()], {
        description: 'Set while Cloud ALM asked to wait (Retry-After).',
      }),
      lastError: Type.Union([Type.String(), Type.Null()]),
    }),
    counts: Type.Object({
      created: Type.Integer(),
      updated: Type.Integer(),
      unchanged: Type.Integer(),
      obsolete: Type.Integer(),
      transitions: Type.Integer(),
      transports: Type.Integer(),
      calls: Type.Integer({ description: 'Calls made to Cloud ALM (token requests not counted).' }),
    }),
    error: Type.Union([Type.String(), Type.Null()]),
    createdAt: Timestamp,
    startedAt: NullableTimestamp,
    endedAt: NullableTimestamp,
  },
  { $id: 'SyncRun' },
);

export const StartSyncBody = Type.Object(
  { mode: Type.Optional(SyncModeSchema) },
  { additionalProperties: false },
);

export const SyncRunsQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 20 })),
    before: Type.Optional(Uuid),
  },
  { additionalProperties: false },
);
