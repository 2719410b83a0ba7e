import Type from 'typebox';
import { Description, Email, Name, NullableTimestamp, Timestamp, Uuid } from '../http/schemas.js';
import { PROJECT_ROLES } from './permissions.js';

const SapUserId = Type.String({ minLength: 1, maxLength: 40, pattern: '^[A-Za-z0-9_.@-]+$' });
export const TenantRoleSchema = Type.Union([Type.Literal('admin'), Type.Literal('member')]);
export const ProjectRoleSchema = Type.Union(PROJECT_ROLES.map((role) => Type.Literal(role)));

export const UserView = Type.Object(
  {
    id: Uuid,
    email: Type.String(),
    name: Type.String(),
    tenantRole: TenantRoleSchema,
    sapUserIds: Type.Array(Type.String()),
    createdAt: Timestamp,
  },
  { $id: 'User' },
);

export const CreateUserBody = Type.Object(
  {
    email: Email,
    name: Type.Optional(Name),
    tenantRole: Type.Optional(TenantRoleSchema),
    sapUserIds: Type.Optional(Type.Array(SapUserId, { maxItems: 50 })),
  },
  { additionalProperties: false },
);

export const UpdateUserBody = Type.Object(
  {
    name: Type.Optional(Name),
    tenantRole: Type.Optional(TenantRoleSchema),
    sapUserIds: Type.Optional(Type.Array(SapUserId, { maxItems: 50 })),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const MeView = Type.Object({
  user: Type.Ref('User'),
  tenant: Type.Object({ id: Uuid, name: Type.String() }),
  tokenId: Uuid,
});

export const TokenView = Type.Object(
  {
    id: Uuid,
    userId: Uuid,
    name: Type.String(),
    expiresAt: NullableTimestamp,
    revokedAt: NullableTimestamp,
    lastUsedAt: NullableTimestamp,
    createdAt: Timestamp,
  },
  { $id: 'ApiToken' },
);

export const CreateTokenBody = Type.Object(
  {
    name: Name,
    /** Another user of the tenant (tenant admins only). */
    userId: Type.Optional(Uuid),
    expiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
  },
  { additionalProperties: false },
);

export const CreatedToken = Type.Object({
  token: Type.String({ description: 'The token itself. Shown this once; only its hash is stored.' }),
  apiToken: Type.Ref('ApiToken'),
});

export const ProjectView = Type.Object(
  {
    id: Uuid,
    tenantId: Uuid,
    name: Type.String(),
    description: Type.String(),
    role: Type.String({ description: "The caller's role in the project (tenant_admin for tenant admins)." }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { $id: 'Project' },
);

export const CreateProjectBody = Type.Object(
  { name: Name, description: Type.Optional(Description) },
  { additionalProperties: false },
);
export const UpdateProjectBody = Type.Object(
  { name: Type.Optional(Name), description: Type.Optional(Description) },
  { additionalProperties: false, minProperties: 1 },
);

export const MemberView = Type.Object(
  { userId: Uuid, email: Type.String(), name: Type.String(), role: Type.String(), since: Timestamp },
  { $id: 'ProjectMember' },
);
export const SetMemberBody = Type.Object({ role: ProjectRoleSchema }, { additionalProperties: false });
export const MemberParams = Type.Object({ id: Uuid, userId: Uuid });
