import Type from 'typebox';
import { ALL_SCOPES, EAM_PERMISSIONS } from '../auth/scopes.js';

const GRANTABLE_SCOPES = [...ALL_SCOPES, ...EAM_PERMISSIONS];

import { FEATURE_STATUS_CODES } from '../features/catalog.js';

const Guid = Type.String({ format: 'uuid' });

export const ClientSchema = Type.Object(
  {
    clientId: Type.String(),
    name: Type.String(),
    scopes: Type.Array(Type.String(), { description: 'Short scope names, e.g. tasks.read' }),
    projectIds: Type.Union([Type.Array(Type.String()), Type.Null()], {
      description: 'Visible projects; null = all',
    }),
    isDefault: Type.Boolean(),
    createdAt: Type.String(),
  },
  { $id: 'SandboxClient' },
);

export const ServiceKeySchema = Type.Object(
  {
    uaa: Type.Object({
      clientid: Type.String(),
      clientsecret: Type.String(),
      url: Type.String(),
      uaadomain: Type.String(),
      identityzone: Type.String(),
      tenantid: Type.String(),
      xsappname: Type.String(),
      'credential-type': Type.String(),
    }),
    endpoints: Type.Object({ Api: Type.String() }),
    sandbox: Type.Object({
      scopes: Type.Array(Type.String()),
      projectIds: Type.Union([Type.Array(Type.String()), Type.Null()]),
      tokenUrl: Type.String(),
    }),
  },
  { $id: 'ServiceKey', description: 'BTP-style service key (reference §1.1) plus the sandbox grants.' },
);

export const NewClientBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    scopes: Type.Optional(
      Type.Array(Type.Union(GRANTABLE_SCOPES.map((scope) => Type.Literal(scope))), {
        description:
          'Default: every Cloud ALM API scope (External API Management permissions are granted explicitly)',
      }),
    ),
    projectIds: Type.Optional(
      Type.Union([Type.Array(Guid), Type.Null()], { description: 'Default: null (every project)' }),
    ),
  },
  { additionalProperties: false },
);

export const ClientPatchBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    scopes: Type.Optional(Type.Array(Type.Union(GRANTABLE_SCOPES.map((scope) => Type.Literal(scope))))),
    projectIds: Type.Optional(Type.Union([Type.Array(Guid), Type.Null()])),
  },
  { additionalProperties: false },
);

export const SettingsSchema = Type.Object({
  pageSize: Type.Integer({
    minimum: 1,
    maximum: 100000,
    description: 'OData server-driven page size (default 1000)',
  }),
  tokenLifetimeSeconds: Type.Integer({ minimum: 1, description: 'Access token lifetime (default 43199)' }),
  featurePatchStatus: Type.Union([Type.Literal(200), Type.Literal(204)], {
    description: 'Answer of PATCH /Features (default 200)',
  }),
  emitTaskDeleted: Type.Boolean({ description: 'Publish TASK.DELETED events (default false)' }),
  featureCreateStatuses: Type.Array(Type.String(), {
    minItems: 1,
    description: `Statuses POST /Features accepts in statusCode (default ["CREATED"]); any of ${FEATURE_STATUS_CODES.join(', ')}`,
  }),
});

export const SettingsPatch = Type.Partial(SettingsSchema, { additionalProperties: false });

export const TransitionsSchema = Type.Record(Type.String(), Type.Array(Type.String()), {
  description: 'Allowed feature statusCode moves: from -> targets',
});

export const FaultRuleBody = Type.Object(
  {
    path: Type.String({ pattern: '^[/*]', description: 'Glob over the request path, * matches anything' }),
    methods: Type.Optional(Type.Array(Type.String())),
    kind: Type.Union([
      Type.Literal('status'),
      Type.Literal('latency'),
      Type.Literal('reset'),
      Type.Literal('token-expiry'),
      Type.Literal('lost-response'),
    ]),
    status: Type.Optional(Type.Integer({ minimum: 400, maximum: 599 })),
    rate: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    retryAfterSeconds: Type.Optional(Type.Integer({ minimum: 0 })),
    latencyMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 120000 })),
    limit: Type.Optional(Type.Integer({ minimum: 1 })),
    distribution: Type.Optional(Type.Union([Type.Literal('even'), Type.Literal('random')])),
  },
  { additionalProperties: false },
);

export const TransportBody = Type.Object(
  {
    transportId: Type.String({ minLength: 1, maxLength: 40, description: 'e.g. S4DK900123' }),
    description: Type.Optional(Type.String()),
    owner: Type.Optional(Type.String()),
    status: Type.Optional(Type.String({ description: 'modifiable (default) or released' })),
    sourceSystem: Type.Optional(Type.String()),
    targetSystem: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export const TransportPatch = Type.Partial(Type.Omit(TransportBody, ['transportId']), {
  additionalProperties: false,
});

export const SeedBody = Type.Object(
  {
    demo: Type.Optional(Type.Boolean()),
    features: Type.Optional(Type.Integer({ minimum: 0, maximum: 200000 })),
    stories: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000000 })),
    seed: Type.Optional(Type.Integer()),
  },
  { additionalProperties: false },
);

export const EventsQuery = Type.Object({
  after: Type.Optional(Type.Integer({ minimum: 0, description: 'Cursor: only events with a larger seq' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  resourceType: Type.Optional(Type.String()),
  eventType: Type.Optional(Type.String()),
  resourceId: Type.Optional(Type.String()),
  projectId: Type.Optional(Type.String()),
  latest: Type.Optional(Type.Boolean({ description: 'The most recent `limit` events (still in seq order)' })),
});
