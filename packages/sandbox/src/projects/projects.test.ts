import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PROJECT_ID } from '../seed/seed.js';
import { type Harness, json, startHarness } from '../test-fixtures/harness.js';

let h: Harness;
const P = '/calm-projects/v1';

beforeAll(async () => {
  h = await startHarness({ seed: 'demo' });
});
afterAll(() => h.stop());

describe('projects', () => {
  it('lists projects as a bare array of {id, name, status}', async () => {
    const response = await h.call(`${P}/projects`);
    expect(response.status).toBe(200);
    const projects = await json<Record<string, unknown>[]>(response);
    expect(projects[0]).toEqual({ id: DEMO_PROJECT_ID, name: 'S/4HANA Finance Transformation', status: 'O' });
  });

  it('reads one project; 404 {message} for unknown ids', async () => {
    expect(await json(await h.call(`${P}/projects/${DEMO_PROJECT_ID}`))).toMatchObject({
      id: DEMO_PROJECT_ID,
    });
    const missing = await h.call(`${P}/projects/00000000-0000-4000-8000-000000000000`);
    expect(missing.status).toBe(404);
    expect(await json(missing)).toEqual({
      message: 'Project with id 00000000-0000-4000-8000-000000000000 not found',
    });
    expect((await h.call(`${P}/projects/not-a-uuid`)).status).toBe(404);
    expect((await h.call(`${P}/nothing`)).status).toBe(404);
  });

  it('creates a project with {name}', async () => {
    const response = await h.call(`${P}/projects`, {
      method: 'POST',
      json: { name: 'Copied template project' },
    });
    expect(response.status).toBe(201);
    const project = await json<{ id: string; name: string; status: string }>(response);
    expect(project).toMatchObject({ name: 'Copied template project', status: 'O' });
    expect((await h.call(`${P}/projects`, { method: 'POST', json: {} })).status).toBe(400);
    expect((await h.call(`${P}/projects`, { method: 'POST', json: { name: 'x', status: 'Z' } })).status).toBe(
      400,
    );
    const created = await json<{ displayId: string }>(
      await h.call('/calm-features/v1/Features', {
        method: 'POST',
        json: { title: 'first', projectId: project.id },
      }),
    );
    expect(created.displayId).toBe('3-1');
  });
});

describe('timeboxes', () => {
  it('lists, creates, reads, closes and deletes timeboxes', async () => {
    const existing = await json<{ id: string; type: number; closed: boolean }[]>(
      await h.call(`${P}/projects/${DEMO_PROJECT_ID}/timeboxes`),
    );
    expect(existing.length).toBe(9);
    expect(Object.keys(existing[0] ?? {}).sort()).toEqual([
      'closed',
      'endDate',
      'id',
      'name',
      'startDate',
      'type',
    ]);
    const created = await h.call(`${P}/projects/${DEMO_PROJECT_ID}/timeboxes`, {
      method: 'POST',
      json: { type: 2, name: 'Sprint 5', startDate: '2026-06-01', endDate: '2026-06-14', closed: false },
    });
    expect(created.status).toBe(201);
    const timebox = await json<{ id: string; closed: boolean }>(created);
    expect(timebox).toMatchObject({
      type: 2,
      name: 'Sprint 5',
      startDate: '2026-06-01',
      endDate: '2026-06-14',
      closed: false,
    });
    expect(await json(await h.call(`${P}/timeboxes/${timebox.id}`))).toEqual(timebox);
    const closed = await h.call(`${P}/timeboxes/${timebox.id}`, { method: 'PATCH', json: { closed: true } });
    expect(closed.status).toBe(200);
    expect((await json<{ closed: boolean }>(closed)).closed).toBe(true);
    expect((await h.call(`${P}/timeboxes/${timebox.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await h.call(`${P}/timeboxes/${timebox.id}`)).status).toBe(404);
  });

  it('validates timebox input', async () => {
    for (const body of [
      { name: 'no type' },
      { type: 3, name: 'bad type' },
      { type: 1, name: 'bad date', startDate: '01.06.2026' },
      { type: 1, name: 'reversed', startDate: '2026-06-10', endDate: '2026-06-01' },
      { type: 1 },
    ]) {
      const response = await h.call(`${P}/projects/${DEMO_PROJECT_ID}/timeboxes`, {
        method: 'POST',
        json: body,
      });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(typeof (await json<{ message: string }>(response)).message).toBe('string');
    }
  });

  it('needs projects.write to change anything', async () => {
    const { token } = await h.client({ name: 'reader', scopes: ['projects.read'] });
    expect((await h.call(`${P}/projects`, { token })).status).toBe(200);
    const response = await h.call(`${P}/projects`, { method: 'POST', token, json: { name: 'x' } });
    expect(response.status).toBe(403);
    expect((await json<{ message: string }>(response)).message).toMatch(/projects\.write/);
  });
});
