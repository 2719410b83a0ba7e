import { createHash, randomUUID } from 'node:crypto';
import type { HttpApp } from '@calmhub/platform';
import Type from 'typebox';
import type { SandboxContext } from '../app/context.js';
import { canSeeProject, type Principal, requireScope } from '../auth/tokens.js';
import { asBody, checkStorable, rejectUnknown } from '../shared/body.js';
import { badRequest, CalmError, notFound } from '../shared/errors.js';
import { hidden, principalOf } from '../shared/family.js';
import { isGuid } from '../shared/ids.js';
import type { SandboxExecutor, TeamRoleTable, TeamTable } from '../store/tables.js';

/** A project team (`GET /projects/{id}/teams`, `GET /teams/{teamId}`); fields beyond `id` INFERRED. */
export interface Team {
  id: string;
  projectId: string;
  name: string;
  description: string | null;
}

/** A member of a role: the e-mail sent in the PATCH body and the tenant's user id for it. */
export interface TeamMember {
  userId: string;
  userEmail: string;
}

/** A role of a team: `roleId`, `roleName` and `members` as a staffing sample reads them. */
export interface TeamRole {
  roleId: string;
  roleName: string;
  members: TeamMember[];
}

export const toTeam = (row: TeamTable): Team => ({
  id: row.id,
  projectId: row.project_id,
  name: row.name,
  description: row.description,
});

/**
 * The sandbox has no user directory: every well-formed e-mail is a user, with an id derived
 * from the lower-cased address (stable across restarts and tenants).
 */
export function userIdFor(email: string): string {
  const hex = createHash('sha256').update(email.toLowerCase()).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** A team of a project the caller may see; another project's team answers like a missing one. */
async function teamFor(db: SandboxExecutor, principal: Principal, teamId: string): Promise<TeamTable> {
  const row = isGuid(teamId)
    ? await db
        .selectFrom('sandbox_teams')
        .selectAll()
        .where('id', '=', teamId.toLowerCase())
        .executeTakeFirst()
    : undefined;
  if (!row || !canSeeProject(principal, row.project_id)) throw notFound(`Team with id ${teamId} not found`);
  return row;
}

async function rolesOf(db: SandboxExecutor, teamId: string): Promise<TeamRole[]> {
  const roles = await db
    .selectFrom('sandbox_team_roles')
    .selectAll()
    .where('team_id', '=', teamId)
    .orderBy('position')
    .execute();
  if (roles.length === 0) return [];
  const members = await db
    .selectFrom('sandbox_team_members')
    .selectAll()
    .where(
      'role_id',
      'in',
      roles.map((role) => role.id),
    )
    .orderBy('role_id')
    .orderBy('position')
    .execute();
  return roles.map((role) => ({
    roleId: role.id,
    roleName: role.name,
    members: members
      .filter((member) => member.role_id === role.id)
      .map((member) => ({ userId: member.user_id, userEmail: member.user_email })),
  }));
}

export async function listTeams(
  ctx: SandboxContext,
  principal: Principal,
  projectId: string,
): Promise<Team[]> {
  const project = isGuid(projectId)
    ? await ctx.db
        .selectFrom('sandbox_projects')
        .select('id')
        .where('id', '=', projectId.toLowerCase())
        .executeTakeFirst()
    : undefined;
  if (!project || !canSeeProject(principal, project.id))
    throw notFound(`Project with id ${projectId} not found`);
  const rows = await ctx.db
    .selectFrom('sandbox_teams')
    .selectAll()
    .where('project_id', '=', project.id)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(toTeam);
}

/** The `members` body of the role PATCH: `[{userEmail}]`, de-duplicated case-insensitively. */
function parseMembers(raw: unknown): string[] {
  const body = asBody(raw);
  rejectUnknown(body, ['members']);
  const members = body.members;
  if (!Array.isArray(members)) throw badRequest("Property 'members' must be an array");
  if (members.length > 1000) throw badRequest("Property 'members' allows at most 1000 entries");
  const emails = new Map<string, string>();
  for (const [index, entry] of members.entries()) {
    const member = asBody(entry, `members[${index}]`);
    rejectUnknown(member, ['userEmail'], `members[${index}]`);
    const email = member.userEmail;
    if (typeof email !== 'string' || email.length > 254 || !EMAIL.test(email)) {
      throw badRequest(`members[${index}].userEmail must be an e-mail address`);
    }
    checkStorable(email, `members[${index}].userEmail`);
    if (!emails.has(email.toLowerCase())) emails.set(email.toLowerCase(), email);
  }
  return [...emails.values()];
}

async function replaceMembers(db: SandboxExecutor, roleId: string, emails: readonly string[]): Promise<void> {
  await db.deleteFrom('sandbox_team_members').where('role_id', '=', roleId).execute();
  if (emails.length === 0) return;
  await db
    .insertInto('sandbox_team_members')
    .values(
      emails.map((email, index) => ({
        role_id: roleId,
        user_email: email,
        user_id: userIdFor(email),
        position: index + 1,
      })),
    )
    .execute();
}

/** `PATCH /teams/{teamId}/roles/{roleId}`: the members sent replace the role's members. */
export async function updateRoleMembers(
  ctx: SandboxContext,
  principal: Principal,
  teamId: string,
  roleId: string,
  raw: unknown,
): Promise<TeamRole> {
  const emails = parseMembers(raw);
  return ctx.db.transaction().execute(async (trx) => {
    const team = await teamFor(trx, principal, teamId);
    const role = isGuid(roleId)
      ? await trx
          .selectFrom('sandbox_team_roles')
          .selectAll()
          .where('id', '=', roleId.toLowerCase())
          .where('team_id', '=', team.id)
          .executeTakeFirst()
      : undefined;
    if (!role) throw notFound(`Role with id ${roleId} not found in team ${teamId}`);
    await replaceMembers(trx, role.id, emails);
    await trx
      .updateTable('sandbox_teams')
      .set({ modified_at: Math.max(ctx.now(), Number(team.modified_at) + 1) })
      .where('id', '=', team.id)
      .execute();
    return (await rolesOf(trx, team.id)).find((candidate) => candidate.roleId === role.id) as TeamRole;
  });
}

/** `/teams/*` and `/projects/{id}/teams` inside the Projects service scope. */
export function registerTeamRoutes(scope: HttpApp, ctx: SandboxContext): void {
  const access = (request: Parameters<typeof principalOf>[0], scopeName: string) => {
    const principal = principalOf(request);
    requireScope(principal, scopeName);
    return principal;
  };
  type Params = { Params: { id: string } };
  scope.get<Params>('/projects/:id/teams', hidden, async (request) =>
    listTeams(ctx, access(request, 'projects.read'), request.params.id),
  );
  scope.get<Params>('/teams/:id', hidden, async (request) =>
    toTeam(await teamFor(ctx.db, access(request, 'projects.read'), request.params.id)),
  );
  scope.get<Params>('/teams/:id/roles', hidden, async (request) => {
    const team = await teamFor(ctx.db, access(request, 'projects.read'), request.params.id);
    return rolesOf(ctx.db, team.id);
  });
  scope.patch<{ Params: { id: string; roleId: string } }>(
    '/teams/:id/roles/:roleId',
    hidden,
    async (request) =>
      updateRoleMembers(
        ctx,
        access(request, 'projects.write'),
        request.params.id,
        request.params.roleId,
        request.body,
      ),
  );
}

// ---------------------------------------------------------------------------------------------
// Admin set-up: teams are made in the Cloud ALM UI, not through the public API.

export interface NewTeam {
  id?: string;
  name: string;
  description?: string | null | undefined;
  roles?: { id?: string; name: string; members?: string[] | undefined }[] | undefined;
}

/** Creates a team with its roles (and members) in a project. Runs in the caller's executor. */
export async function insertTeam(
  db: SandboxExecutor,
  projectId: string,
  input: NewTeam,
  at: number,
): Promise<Team & { roles: TeamRole[] }> {
  const team: TeamTable = {
    id: input.id ?? randomUUID(),
    project_id: projectId,
    name: checkStorable(input.name, 'name'),
    description: input.description == null ? null : checkStorable(input.description, 'description'),
    created_at: at,
    modified_at: at,
  };
  await db.insertInto('sandbox_teams').values(team).execute();
  const names = new Set<string>();
  for (const [index, role] of (input.roles ?? []).entries()) {
    checkStorable(role.name, 'Role name');
    if (names.has(role.name)) throw new CalmError(400, `Role '${role.name}' appears twice`);
    names.add(role.name);
    const row: TeamRoleTable = {
      id: role.id ?? randomUUID(),
      team_id: team.id,
      name: role.name,
      position: index + 1,
    };
    await db.insertInto('sandbox_team_roles').values(row).execute();
    const emails = role.members ?? [];
    for (const email of emails) {
      if (!EMAIL.test(email)) throw new CalmError(400, `'${email}' is not an e-mail address`);
      checkStorable(email, 'A member e-mail');
    }
    await replaceMembers(db, row.id, [
      ...new Map(emails.map((email) => [email.toLowerCase(), email])).values(),
    ]);
  }
  return { ...toTeam(team), roles: await rolesOf(db, team.id) };
}

const TeamBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 255 }),
    description: Type.Optional(Type.String({ maxLength: 5000 })),
    roles: Type.Optional(
      Type.Array(
        Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 255, description: 'e.g. Configuration Expert' }),
            members: Type.Optional(Type.Array(Type.String({ maxLength: 254 }), { maxItems: 1000 })),
          },
          { additionalProperties: false },
        ),
        { maxItems: 100 },
      ),
    ),
  },
  { additionalProperties: false },
);

const adminTag = { tags: ['projects'], description: 'Requires `Authorization: Bearer <admin token>`.' };

/** `/admin/projects/{projectId}/teams` and `/admin/teams/{teamId}` (calmhub error contract). */
export function registerTeamAdminRoutes(scope: HttpApp, ctx: SandboxContext): void {
  scope.post<{
    Params: { projectId: string };
    Body: { name: string; description?: string; roles?: { name: string; members?: string[] }[] };
  }>(
    '/projects/:projectId/teams',
    {
      schema: {
        ...adminTag,
        summary: 'Create a project team with its roles and members (as the Cloud ALM UI does)',
        params: Type.Object({ projectId: Type.String() }),
        body: TeamBody,
      },
    },
    async (request, reply) => {
      const id = request.params.projectId.toLowerCase();
      const project = isGuid(id)
        ? await ctx.db.selectFrom('sandbox_projects').select('id').where('id', '=', id).executeTakeFirst()
        : undefined;
      if (!project) throw new CalmError(404, `Project ${request.params.projectId} not found`);
      const team = await ctx.db
        .transaction()
        .execute((trx) => insertTeam(trx, project.id, request.body, ctx.now()));
      return reply.status(201).send(team);
    },
  );
  scope.delete<{ Params: { teamId: string } }>(
    '/teams/:teamId',
    {
      schema: {
        ...adminTag,
        summary: 'Delete a project team with its roles',
        params: Type.Object({ teamId: Type.String() }),
      },
    },
    async (request, reply) => {
      const id = request.params.teamId.toLowerCase();
      const result = isGuid(id)
        ? await ctx.db.deleteFrom('sandbox_teams').where('id', '=', id).executeTakeFirst()
        : undefined;
      if (!result || Number(result.numDeletedRows) === 0) {
        throw new CalmError(404, `Team ${request.params.teamId} not found`);
      }
      return reply.status(204).send();
    },
  );
}

// ---------------------------------------------------------------------------------------------
// Demo seed

export const DEMO_TEAM_ID = '7ea40000-0000-4000-8000-000000000001';

/** The demo project's team (fixed ids), and a small one for the second demo project. */
export async function seedDemoTeams(
  db: SandboxExecutor,
  projects: { finance: string; hr: string },
  at: number,
): Promise<void> {
  const role = (n: number) => `7ea40000-0000-4000-8000-0000000001${String(n).padStart(2, '0')}`;
  await insertTeam(
    db,
    projects.finance,
    {
      id: DEMO_TEAM_ID,
      name: 'Finance Core Team',
      description: 'Project team of the S/4HANA finance transformation',
      roles: [
        { id: role(1), name: 'Project Lead', members: ['anna.schmidt@example.com'] },
        {
          id: role(2),
          name: 'Configuration Expert',
          members: ['li.wei@example.com', 'marco.rossi@example.com'],
        },
        { id: role(3), name: 'Developer', members: ['priya.nair@example.com', 'john.doe@example.com'] },
        { id: role(4), name: 'Test Manager', members: ['marco.rossi@example.com'] },
        { id: role(5), name: 'Business Process Expert', members: [] },
      ],
    },
    at,
  );
  await insertTeam(
    db,
    projects.hr,
    {
      id: '7ea40000-0000-4000-8000-000000000002',
      name: 'HR Rollout Team',
      roles: [
        { id: role(11), name: 'Project Lead', members: ['john.doe@example.com'] },
        { id: role(12), name: 'Project Member', members: [] },
      ],
    },
    at,
  );
}
