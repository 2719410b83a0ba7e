import Type from 'typebox';
import { CREDENTIAL_SYSTEMS, CREDENTIAL_TYPES } from '../connectors/credential.js';
import { HttpUrl, Name, NullableTimestamp, Timestamp, Uuid } from '../http/schemas.js';

const Secret = Type.String({ minLength: 1, maxLength: 4096, writeOnly: true });
const Short = Type.String({ minLength: 1, maxLength: 512 });
const ClientAuthentication = Type.Union([Type.Literal('basic'), Type.Literal('body')], {
  description: 'How the client id and secret reach the token service: HTTP Basic (default) or form fields.',
});

export const CredentialTypeSchema = Type.Union(CREDENTIAL_TYPES.map((t) => Type.Literal(t)));
export const CredentialSystemSchema = Type.Union(CREDENTIAL_SYSTEMS.map((s) => Type.Literal(s)));

const Settings = Type.Object({
  url: Type.Optional(Type.String()),
  tokenUrl: Type.Optional(Type.String()),
  apiUrl: Type.Optional(Type.String()),
  clientId: Type.Optional(Type.String()),
  username: Type.Optional(Type.String()),
  scope: Type.Optional(Type.String()),
  clientAuthentication: Type.Optional(ClientAuthentication),
});

export const TestResult = Type.Object(
  {
    ok: Type.Boolean(),
    check: Type.String(),
    message: Type.String({ description: "On failure, the remote's answer verbatim." }),
    remoteStatus: Type.Optional(Type.Integer()),
    at: Timestamp,
  },
  { $id: 'CredentialTestResult' },
);

export const CredentialView = Type.Object(
  {
    id: Uuid,
    name: Type.String(),
    type: CredentialTypeSchema,
    system: CredentialSystemSchema,
    scope: Type.Union([Type.Literal('tenant'), Type.Literal('project')]),
    projectId: Type.Union([Uuid, Type.Null()]),
    settings: Settings,
    secret: Type.Literal('********', { description: 'Secrets are write-only: always masked.' }),
    lastTest: Type.Union([Type.Ref('CredentialTestResult'), Type.Null()]),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    rotatedAt: NullableTimestamp,
  },
  { $id: 'Credential' },
);

export const CreateCredentialBody = Type.Object(
  {
    name: Name,
    type: Type.Optional(CredentialTypeSchema),
    system: Type.Optional(CredentialSystemSchema),
    projectId: Type.Optional(Uuid),
    serviceKey: Type.Optional(
      Type.Union([Type.Object({}, { additionalProperties: true }), Type.String({ maxLength: 65536 })], {
        description:
          'A BTP service key as pasted, as an object or JSON text: Cloud ALM (uaa.clientid/clientsecret/url, ' +
          'endpoints.Api), Cloud Transport Management (uaa.*, uri: the API base) or Cloud Integration ' +
          '(oauth.clientid/clientsecret/url/tokenurl). A CTMS or Cloud Integration key makes the type ' +
          'oauth2_client_credentials and the system ctms or cloud_integration unless they are given.',
      }),
    ),
    clientId: Type.Optional(Short),
    clientSecret: Type.Optional(Secret),
    url: Type.Optional(HttpUrl),
    tokenUrl: Type.Optional(HttpUrl),
    apiUrl: Type.Optional(HttpUrl),
    scope: Type.Optional(Short),
    username: Type.Optional(Short),
    password: Type.Optional(Secret),
    clientAuthentication: Type.Optional(ClientAuthentication),
  },
  { additionalProperties: false },
);

export const UpdateCredentialBody = Type.Object(
  {
    name: Type.Optional(Name),
    settings: Type.Optional(
      Type.Object(
        {
          url: Type.Optional(HttpUrl),
          tokenUrl: Type.Optional(HttpUrl),
          apiUrl: Type.Optional(HttpUrl),
          clientId: Type.Optional(Short),
          username: Type.Optional(Short),
          scope: Type.Optional(Short),
        },
        { additionalProperties: false, minProperties: 1 },
      ),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const RotateCredentialBody = Type.Object(
  {
    clientSecret: Type.Optional(Secret),
    password: Type.Optional(Secret),
    serviceKey: Type.Optional(
      Type.Union([Type.Object({}, { additionalProperties: true }), Type.String({ maxLength: 65536 })]),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const ListCredentialsQuery = Type.Object(
  { projectId: Type.Optional(Uuid) },
  { additionalProperties: false },
);
