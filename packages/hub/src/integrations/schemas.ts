import Type from 'typebox';
import { Description, HttpUrl, IdParams, Name, NullableTimestamp, Timestamp, Uuid } from '../http/schemas.js';

const CalmProjectId = Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9._~-]+$' });

export const WebhookView = Type.Object(
  {
    url: Type.String({ description: 'The full URL Cloud ALM calls (destination URL + path).' }),
    path: Type.String({ description: "For Cloud ALM's webhook Path field (no leading slash)." }),
    secretKey: Type.String(),
    rotatedAt: NullableTimestamp,
  },
  { $id: 'Webhook' },
);

export const IntegrationView = Type.Object(
  {
    id: Uuid,
    projectId: Uuid,
    name: Type.String(),
    description: Type.String(),
    externalSystem: Type.Literal('SAP_CLOUD_ALM'),
    credentialId: Uuid,
    hostUrl: Type.String(),
    calmProject: Type.Object({ id: Type.String(), name: Type.String() }),
    enabled: Type.Boolean(),
    webhook: Type.Union([Type.Ref('Webhook'), Type.Null()], {
      description: 'Shown to those who may read the webhook key (project admins); null for others.',
    }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { $id: 'Integration' },
);

export const CreateIntegrationBody = Type.Object(
  {
    name: Name,
    description: Type.Optional(Description),
    externalSystem: Type.Optional(Type.Literal('SAP_CLOUD_ALM')),
    credentialId: Uuid,
    hostUrl: Type.Optional(HttpUrl),
    calmProjectId: CalmProjectId,
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const UpdateIntegrationBody = Type.Object(
  {
    name: Type.Optional(Name),
    description: Type.Optional(Description),
    credentialId: Type.Optional(Uuid),
    hostUrl: Type.Optional(HttpUrl),
    calmProjectId: Type.Optional(CalmProjectId),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const CalmProjectsQuery = Type.Object(
  { credentialId: Uuid, hostUrl: Type.Optional(HttpUrl) },
  { additionalProperties: false },
);

export const CalmProjectList = Type.Object({
  items: Type.Array(
    Type.Object({ id: Type.String(), name: Type.String(), status: Type.Optional(Type.String()) }),
  ),
  note: Type.Union([Type.String(), Type.Null()]),
});

export { IdParams };
