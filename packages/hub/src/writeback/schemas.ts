import Type, { type Static } from 'typebox';
import { NullableTimestamp, Timestamp, Uuid } from '../http/schemas.js';
import {
  WRITE_BACK_ACTIONS,
  WRITE_BACK_TARGETS,
  type WriteBackAction,
  type WriteBackTargetKind,
} from './actions.js';

const flags = (keys: readonly string[], description: (key: string) => string) =>
  Type.Object(Object.fromEntries(keys.map((key) => [key, Type.Boolean({ description: description(key) })])), {
    additionalProperties: false,
  });
const optionalFlags = (keys: readonly string[]) =>
  Type.Object(Object.fromEntries(keys.map((key) => [key, Type.Optional(Type.Boolean())])), {
    additionalProperties: false,
  });

export const WriteBackSettingsView = Type.Object(
  {
    integrationId: Uuid,
    targets: flags(WRITE_BACK_TARGETS, (key) => `Write ${key.replace('_', ' ')}s`),
    actions: flags(WRITE_BACK_ACTIONS, (key) => `Report ${key}`),
  },
  {
    $id: 'WriteBackSettings',
    description:
      'What the hub writes back to Cloud ALM for this integration. An action is written to a target when both ' +
      'its action and the target are on; everything is on by default.',
  },
);
export type WriteBackSettingsView = Static<typeof WriteBackSettingsView>;

export const WriteBackSettingsBody = Type.Object(
  {
    targets: Type.Optional(optionalFlags(WRITE_BACK_TARGETS)),
    actions: Type.Optional(optionalFlags(WRITE_BACK_ACTIONS)),
  },
  { additionalProperties: false, description: 'Switches to change; those left out keep their value.' },
);
export type WriteBackSettingsBody = Static<typeof WriteBackSettingsBody>;

export const WriteBackView = Type.Object(
  {
    id: Uuid,
    target: Type.Unsafe<WriteBackTargetKind>(Type.Union(WRITE_BACK_TARGETS.map((t) => Type.Literal(t)))),
    /** The Cloud ALM task id or feature uuid. */
    targetCalmId: Type.String(),
    action: Type.Unsafe<WriteBackAction>(Type.Union(WRITE_BACK_ACTIONS.map((a) => Type.Literal(a)))),
    text: Type.String(),
    marker: Type.String(),
    url: Type.Union([Type.String(), Type.Null()]),
    state: Type.Union([Type.Literal('pending'), Type.Literal('written'), Type.Literal('failed')]),
    attempts: Type.Integer(),
    lastError: Type.Union([Type.String(), Type.Null()]),
    createdAt: Timestamp,
    writtenAt: NullableTimestamp,
  },
  { $id: 'WriteBack', description: 'One write the hub owes or made to Cloud ALM about a story.' },
);
export type WriteBackView = Static<typeof WriteBackView>;
