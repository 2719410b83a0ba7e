import { testEngines } from '@calmhub/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { givenTenant, givenUser, startTestHub, type TestHub } from '../testing/test-hub.js';

describe.each(testEngines)('tenants, users, tokens and roles (%s)', (engine) => {
  let hub: TestHub;
  let admin: string;

  beforeAll(async () => {
    hub = await startTestHub({ engine });
    admin = hub.adminToken;
  });
  afterAll(async () => {
    await hub?.stop();
  });

  it('the first start creates the admin and a token in a 0600 file', async () => {
    const me = await hub.call('GET', '/api/v1/me', { token: admin });
    expect(me.status).toBe(200);
    expect(me.body.user).toMatchObject({ email: 'admin@localhost', tenantRole: 'admin' });
    expect(me.body.tenant.name).toBe('default');
    const { statSync, readFileSync } = await import('node:fs');
    expect(statSync(hub.hub.adminTokenFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(hub.hub.adminTokenFile, 'utf8').trim()).toBe(admin);
  });

  it('every bad token gets the same 401 with the error contract', async () => {
    const bodies = [];
    for (const token of [
      undefined,
      'nonsense',
      `chub_${'0'.repeat(32)}_${'A'.repeat(43)}`,
      `${admin.slice(0, -1)}x`,
    ]) {
      const response = await hub.call('GET', '/api/v1/projects', token === undefined ? {} : { token });
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toContain('Bearer');
      bodies.push(response.body.error.message);
    }
    expect(new Set(bodies).size).toBe(1);
  });

  it('creates named tokens shown once, lists them without the secret, revokes and expires them', async () => {
    const created = await hub.call('POST', '/api/v1/tokens', {
      token: admin,
      body: { name: 'ci', expiresInDays: 30 },
    });
    expect(created.status).toBe(201);
    expect(created.body.token).toMatch(/^chub_[0-9a-f]{32}_/);
    expect(created.body.apiToken).toMatchObject({ name: 'ci', revokedAt: null });
    const list = await hub.call('GET', '/api/v1/tokens', { token: admin });
    expect(list.text).not.toContain(created.body.token);
    expect(list.body.items.map((t: { name: string }) => t.name)).toContain('ci');
    expect((await hub.call('GET', '/api/v1/me', { token: created.body.token })).status).toBe(200);

    const revoked = await hub.call('DELETE', `/api/v1/tokens/${created.body.apiToken.id}`, { token: admin });
    expect(revoked.body.revokedAt).not.toBeNull();
    expect((await hub.call('GET', '/api/v1/me', { token: created.body.token })).status).toBe(401);

    const short = await hub.call('POST', '/api/v1/tokens', {
      token: admin,
      body: { name: 'short', expiresInDays: 1 },
    });
    await hub.hub.deps.db
      .updateTable('hub_api_tokens')
      .set({ expires_at: Date.now() - 1 })
      .where('id', '=', short.body.apiToken.id)
      .execute();
    expect((await hub.call('GET', '/api/v1/me', { token: short.body.token })).status).toBe(401);
  });

  it('adds users with e-mail and SAP user ids, refuses duplicates, and keeps the last admin', async () => {
    const added = await hub.call('POST', '/api/v1/users', {
      token: admin,
      body: { email: 'Dev.One@Example.com', name: 'Dev One', sapUserIds: ['dev1', 'DEV1', 'devx'] },
    });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({
      email: 'dev.one@example.com',
      tenantRole: 'member',
      sapUserIds: ['DEV1', 'DEVX'],
    });
    const duplicate = await hub.call('POST', '/api/v1/users', {
      token: admin,
      body: { email: 'dev.one@example.com' },
    });
    expect(duplicate.status).toBe(409);
    const me = await hub.call('GET', '/api/v1/me', { token: admin });
    const demote = await hub.call('PATCH', `/api/v1/users/${me.body.user.id}`, {
      token: admin,
      body: { tenantRole: 'member' },
    });
    expect(demote.status).toBe(409);
    const invalid = await hub.call('POST', '/api/v1/users', {
      token: admin,
      body: { email: 'not an e-mail' },
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.message).toContain('email');
  });

  it('gives roles per project: members see their projects only, the role decides what they may do', async () => {
    const project = (await hub.call('POST', '/api/v1/projects', { token: admin, body: { name: 'Roles' } }))
      .body;
    const other = (await hub.call('POST', '/api/v1/projects', { token: admin, body: { name: 'Hidden' } }))
      .body;
    const me = await hub.call('GET', '/api/v1/me', { token: admin });
    const dev = await givenUser(hub, me.body.tenant.id, 'roles-dev@example.com');
    const set = await hub.call('PUT', `/api/v1/projects/${project.id}/members/${dev.userId}`, {
      token: admin,
      body: { role: 'release_manager' },
    });
    expect(set.body).toMatchObject({ email: 'roles-dev@example.com', role: 'release_manager' });
    const visible = await hub.call('GET', '/api/v1/projects', { token: dev.token });
    expect(visible.body.items).toEqual([
      expect.objectContaining({ id: project.id, role: 'release_manager' }),
    ]);
    expect((await hub.call('GET', `/api/v1/projects/${other.id}`, { token: dev.token })).status).toBe(404);
    const rename = await hub.call('PATCH', `/api/v1/projects/${project.id}`, {
      token: dev.token,
      body: { name: 'x' },
    });
    expect(rename.status).toBe(403);
    expect(rename.body.error.message).toBe(
      'Not allowed to project.update: the role release_manager in this project does not include it',
    );
    // A member may make their own token, not one for someone else.
    expect(
      (await hub.call('POST', '/api/v1/tokens', { token: dev.token, body: { name: 'mine' } })).status,
    ).toBe(201);
    const forAdmin = await hub.call('POST', '/api/v1/tokens', {
      token: dev.token,
      body: { name: 'theirs', userId: me.body.user.id },
    });
    expect(forAdmin.status).toBe(403);
    const removed = await hub.call('DELETE', `/api/v1/projects/${project.id}/members/${dev.userId}`, {
      token: admin,
    });
    expect(removed.status).toBe(204);
    expect((await hub.call('GET', '/api/v1/projects', { token: dev.token })).body.items).toEqual([]);
  });

  it('keeps tenants apart: a second tenant sees only its own users and projects', async () => {
    const b = await givenTenant(hub, 'tenant-b');
    const users = await hub.call('GET', '/api/v1/users', { token: b.adminToken });
    expect(users.body.items.map((u: { email: string }) => u.email)).toEqual(['admin@tenant-b.example']);
    expect((await hub.call('GET', '/api/v1/projects', { token: b.adminToken })).body.items).toEqual([]);
    const same = await hub.call('POST', '/api/v1/projects', { token: b.adminToken, body: { name: 'Roles' } });
    expect(same.status).toBe(201);
  });
});
