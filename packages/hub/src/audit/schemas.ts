import Type, { type Static } from 'typebox';
import { Timestamp, Uuid } from '../http/schemas.js';
import { AUDIT_ACTOR_KINDS, AUDIT_KINDS } from './types.js';

const literals = <T extends readonly string[]>(values: T) => values.map((value) => Type.Literal(value));

export const AuditKindSchema = Type.Union(literals(AUDIT_KINDS), {
  $id: 'AuditKind',
  description: 'What happened, `<object>.<verb>`.',
});

const NullableString = Type.Union([Type.String(), Type.Null()]);

export const AuditEntryView = Type.Object(
  {
    id: Type.Integer({ description: 'Ascending; the `before` cursor pages on it.' }),
    occurredAt: Timestamp,
    projectId: Type.Union([Uuid, Type.Null()]),
    actor: Type.Object({
      kind: Type.Union(literals(AUDIT_ACTOR_KINDS)),
      id: Type.String(),
      label: Type.String({ description: "The user's e-mail, the integration's name, or the system part." }),
    }),
    role: Type.Union([Type.String(), Type.Null()], {
      description: "The actor's role at the time: tenant_admin, a project role, or null.",
    }),
    kind: Type.Ref('AuditKind'),
    object: Type.Object({ kind: Type.String(), id: Type.String(), label: NullableString }),
    before: Type.Unknown({ description: 'The API view before the change (secrets masked), or null.' }),
    after: Type.Unknown({ description: 'The API view after the change (secrets masked), or null.' }),
    requestId: NullableString,
  },
  { $id: 'AuditEntry' },
);

const filterFields = {
  from: Type.Optional(Type.String({ format: 'date-time', description: 'Entries at or after (ISO 8601).' })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'Entries before (ISO 8601).' })),
  actor: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 320,
      pattern: '^[^\\u0000-\\u001f\\u007f]+$',
      description: 'A user id or e-mail, an integration id, or a system part.',
    }),
  ),
  objectKind: Type.Optional(Type.String({ minLength: 1, maxLength: 60, pattern: '^[a-z_]+$' })),
  objectId: Type.Optional(
    Type.String({ minLength: 1, maxLength: 200, pattern: '^[^\\u0000-\\u001f\\u007f]+$' }),
  ),
  kind: Type.Optional(
    Type.Array(Type.Union(literals(AUDIT_KINDS)), {
      maxItems: 40,
      description: 'Audit kinds (repeat the key).',
    }),
  ),
};

const pageFields = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  before: Type.Optional(
    Type.Integer({ minimum: 1, description: 'Only entries with a smaller id (the next page).' }),
  ),
};

const tenantFields = {
  projectId: Type.Optional(Uuid),
};

export const TenantAuditQuery = Type.Object(
  { ...filterFields, ...tenantFields, ...pageFields },
  { additionalProperties: false },
);
export const ProjectAuditQuery = Type.Object(
  { ...filterFields, ...pageFields },
  { additionalProperties: false },
);
export const TenantAuditCsvQuery = Type.Object(
  { ...filterFields, ...tenantFields },
  { additionalProperties: false },
);
export const ProjectAuditCsvQuery = Type.Object(filterFields, { additionalProperties: false });

export type AuditQuery = Static<typeof TenantAuditQuery>;

export const AuditPage = Type.Object({
  items: Type.Array(Type.Ref('AuditEntry')),
  nextBefore: Type.Union([Type.Integer(), Type.Null()], {
    description: 'Pass as `before` for the next (older) page; null on the last page.',
  }),
});
