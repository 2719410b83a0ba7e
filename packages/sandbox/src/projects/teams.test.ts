import { createTestStore, type TestStore, testEngines } from '@calmhub/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxMigrationSets } from '../app/start-sandbox.js';
import { DEMO_PROJECT_ID, DEMO_SECOND_PROJECT_ID } from '../seed/seed.js';
import { type Harness, json, startHarness } from '../test-fixtures/harness.js';
import { DEMO_TEAM_ID, userIdFor } from './teams.js';

type Team = { id: string; projectId: string; name: string; description: string | null };
type Role = { roleId: string; roleName: string; members: { userId: string; userEmail: string }[] };

describe.each(testEngines)('project teams on %s', (engine) => {
  let testStore: TestStore;
  let h: Harness;
  const api = '/calm-projects/v1';

  beforeAll(async () => {
    testStore = await createTestStore(engine, sandboxMigrationSets);
    h = await startHarness({ store: testStore.store, seed: 'demo' });
  });
  afterAll(async () => {
    await h?.stop();
    await testStore?.cleanup();
  });

  it('lists the seeded team of the demo project with its roles and members', async () => {
    const response = await h.call(`${api}/projects/${DEMO_PROJECT_ID}/teams`);
    expect(response.status).toBe(200);
    const teams = await json<Team[]>(response);
    expect(teams).toEqual([
      {
        id: DEMO_TEAM_ID,
        projectId: DEMO_PROJECT_ID,
        name: 'Finance Core Team',
        description: 'Project team of the S/4HANA finance transformation',
      },
    ]);
    expect(await json<Team>(await h.call(`${api}/teams/${DEMO_TEAM_ID.toUpperCase()}`))).toEqual(teams[0]);
    const roles = await json<Role[]>(await h.call(`${api}/teams/${DEMO_TEAM_ID}/roles`));
    expect(roles.map((role) => role.roleName)).toEqual([
      'Project Lead',
      'Configuration Expert',
      'Developer',
      'Test Manager',
      'Business Process Expert',
    ]);
    expect(roles[1]?.members).toEqual([
      { userId: userIdFor('li.wei@example.com'), userEmail: 'li.wei@example.com' },
      { userId: userIdFor('marco.rossi@example.com'), userEmail: 'marco.rossi@example.com' },
    ]);
    expect(roles[4]?.members).toEqual([]);
  });

  it('replaces the members of a role with PATCH {members:[{userEmail}]}', async () => {
    const roles = await json<Role[]>(await h.call(`${api}/teams/${DEMO_TEAM_ID}/roles`));
    const expert = roles.find((role) => role.roleName === 'Configuration Expert') as Role;
    const patched = await h.call(`${api}/teams/${DEMO_TEAM_ID}/roles/${expert.roleId}`, {
      method: 'PATCH',
      json: {
        members: [
          { userEmail: 'test@example.com' },
          { userEmail: 'test.2@example.com' },
          { userEmail: 'TEST@example.com' },
        ],
      },
    });
    expect(patched.status).toBe(200);
    expect(await json<Role>(patched)).toEqual({
      roleId: expert.roleId,
      roleName: 'Configuration Expert',
      members: [
        { userId: userIdFor('test@example.com'), userEmail: 'test@example.com' },
        { userId: userIdFor('test.2@example.com'), userEmail: 'test.2@example.com' },
      ],
    });
    const reread = await json<Role[]>(await h.call(`${api}/teams/${DEMO_TEAM_ID}/roles`));
    expect(reread.find((role) => role.roleId === expert.roleId)?.members.map((m) => m.userEmail)).toEqual([
      'test@example.com',
      'test.2@example.com',
    ]);
    // The other roles are untouched; an empty list empties the role.
    expect(reread.find((role) => role.roleName === 'Project Lead')?.members).toHaveLength(1);
    const emptied = await h.call(`${api}/teams/${DEMO_TEAM_ID}/roles/${expert.roleId}`, {
      method: 'PATCH',
      json: { members: [] },
    });
    expect((await json<Role>(emptied)).members).toEqual([]);
  });

  it('answers bad input and unknown ids in the REST error shape', async () => {
    const roles = await json<Role[]>(await h.call(`${api}/teams/${DEMO_TEAM_ID}/roles`));
    const role = roles[0] as Role;
    const patch = (body: unknown, path = `${api}/teams/${DEMO_TEAM_ID}/roles/${role.roleId}`) =>
      h.call(path, { method: 'PATCH', json: body });
    for (const [body, message] of [
      [{}, "'members' must be an array"],
      [{ members: [{ userEmail: 'not-an-email' }] }, 'members[0].userEmail must be an e-mail address'],
      [{ members: [{ email: 'a@b.c' }] }, "'email'"],
      [{ members: 'a@b.c' }, "'members' must be an array"],
      [{ members: [], name: 'x' }, "'name'"],
    ] as [unknown, string][]) {
      const response = await patch(body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect((await json<{ message: string }>(response)).message).toContain(message);
    }
    const unknownRole = await patch({ members: [] }, `${api}/teams/${DEMO_TEAM_ID}/roles/${DEMO_TEAM_ID}`);
    expect(unknownRole.status).toBe(404);
    const unknownTeam = await h.call(`${api}/teams/00000000-0000-4000-8000-000000000000`);
    expect(unknownTeam.status).toBe(404);
    expect(await json(unknownTeam)).toEqual({
      message: 'Team with id 00000000-0000-4000-8000-000000000000 not found',
    });
    expect((await h.call(`${api}/projects/00000000-0000-4000-8000-000000000000/teams`)).status).toBe(404);
  });

  it('asks for projects.read / projects.write and hides other projects like missing ones', async () => {
    const reader = await h.client({ scopes: ['projects.read'] });
    expect((await h.call(`${api}/teams/${DEMO_TEAM_ID}/roles`, { token: reader.token })).status).toBe(200);
    const roles = await json<Role[]>(await h.call(`${api}/teams/${DEMO_TEAM_ID}/roles`));
    const denied = await h.call(`${api}/teams/${DEMO_TEAM_ID}/roles/${roles[0]?.roleId}`, {
      method: 'PATCH',
      token: reader.token,
      json: { members: [] },
    });
    expect(denied.status).toBe(403);
    const tasksOnly = await h.client({ scopes: ['tasks.read'] });
    expect(
      (await h.call(`${api}/projects/${DEMO_PROJECT_ID}/teams`, { token: tasksOnly.token })).status,
    ).toBe(403);

    const hr = await h.client({
      scopes: ['projects.read', 'projects.write'],
      projectIds: [DEMO_SECOND_PROJECT_ID],
    });
    const own = await json<Team[]>(
      await h.call(`${api}/projects/${DEMO_SECOND_PROJECT_ID}/teams`, { token: hr.token }),
    );
    expect(own.map((team) => team.name)).toEqual(['HR Rollout Team']);
    for (const path of [
      `${api}/projects/${DEMO_PROJECT_ID}/teams`,
      `${api}/teams/${DEMO_TEAM_ID}`,
      `${api}/teams/${DEMO_TEAM_ID}/roles`,
    ]) {
      const response = await h.call(path, { token: hr.token });
      expect(response.status, path).toBe(404);
      expect(Object.keys(await json(response))).toEqual(['message']);
    }
    const foreignPatch = await h.call(`${api}/teams/${DEMO_TEAM_ID}/roles/${roles[0]?.roleId}`, {
      method: 'PATCH',
      token: hr.token,
      json: { members: [] },
    });
    expect(foreignPatch.status).toBe(404);
  });

  it('sets up teams through the admin API', async () => {
    const created = await h.admin(`/projects/${DEMO_SECOND_PROJECT_ID}/teams`, {
      method: 'POST',
      json: {
        name: 'Payroll Team',
        roles: [
          { name: 'Project Lead', members: ['priya.nair@example.com'] },
          { name: 'Project Member', members: ['a@example.com', 'b@example.com'] },
        ],
      },
    });
    expect(created.status).toBe(201);
    const team = await json<Team & { roles: Role[] }>(created);
    expect(team.roles.map((role) => [role.roleName, role.members.length])).toEqual([
      ['Project Lead', 1],
      ['Project Member', 2],
    ]);
    const teams = await json<Team[]>(await h.call(`${api}/projects/${DEMO_SECOND_PROJECT_ID}/teams`));
    expect(teams.map((t) => t.name)).toEqual(['HR Rollout Team', 'Payroll Team']);
    expect((await h.admin(`/projects/${DEMO_PROJECT_ID}/teams`, { method: 'POST', json: {} })).status).toBe(
      400,
    );
    expect(
      (
        await h.admin('/projects/00000000-0000-4000-8000-000000000000/teams', {
          method: 'POST',
          json: { name: 'x' },
        })
      ).status,
    ).toBe(404);
    expect((await h.admin(`/teams/${team.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await h.call(`${api}/teams/${team.id}`)).status).toBe(404);
    expect((await h.admin(`/teams/${team.id}`, { method: 'DELETE' })).status).toBe(404);
  });
});
