import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PROJECT_ID, DEMO_SECOND_PROJECT_ID } from '../seed/seed.js';
import { type Harness, json, startHarness } from '../test-fixtures/harness.js';

const T = '/calm-tasks/v1';

describe('workstreams and deliverables for clients restricted to some projects', () => {
  let h: Harness;
  let restricted: string;
  beforeAll(async () => {
    h = await startHarness({ seed: 'demo' });
    restricted = (
      await h.client({
        scopes: ['tasks.read', 'tasks.write', 'projects.read'],
        projectIds: [DEMO_SECOND_PROJECT_ID],
      })
    ).token;
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('lets a restricted client read custom workstreams but not create, rename or delete them', async () => {
    const created = await json<{ id: string; name: string }>(
      await h.call(`${T}/workstreams`, { method: 'POST', json: { name: 'Data Migration' } }),
    );
    const listed = await json<{ id: string }[]>(await h.call(`${T}/workstreams`, { token: restricted }));
    expect(listed.map((w) => w.id)).toContain(created.id);

    const attempts = [
      h.call(`${T}/workstreams`, { token: restricted, method: 'POST', json: { name: 'Mine' } }),
      h.call(`${T}/workstreams/${created.id}`, {
        token: restricted,
        method: 'PATCH',
        json: { name: 'Renamed' },
      }),
      h.call(`${T}/workstreams/${created.id}`, { token: restricted, method: 'DELETE' }),
    ];
    for (const response of await Promise.all(attempts)) {
      expect(response.status).toBe(403);
      expect(await json(response)).toEqual({
        message: expect.stringContaining('restricted to some projects'),
      });
    }
    const after = await json<{ id: string; name: string }[]>(await h.call(`${T}/workstreams`));
    expect(after.find((w) => w.id === created.id)?.name).toBe('Data Migration');
    // The unrestricted client still manages them.
    expect((await h.call(`${T}/workstreams/${created.id}`, { method: 'DELETE' })).status).toBe(204);
  });

  it("answers 403 for another project's deliverable without naming that project", async () => {
    const [deliverable] = await json<{ id: string }[]>(
      await h.call(`${T}/deliverables?projectId=${DEMO_PROJECT_ID}`),
    );
    expect(deliverable).toBeDefined();
    for (const method of ['GET', 'PATCH', 'DELETE']) {
      const response = await h.call(`${T}/deliverables/${deliverable?.id}`, {
        token: restricted,
        method,
        ...(method === 'PATCH' ? { json: { name: 'x' } } : {}),
      });
      expect(response.status).toBe(403);
      const text = await response.text();
      expect(text).not.toContain(DEMO_PROJECT_ID);
    }
    const project = await h.call(`/calm-projects/v1/projects/${DEMO_PROJECT_ID}`, { token: restricted });
    expect(project.status).toBe(403);
  });
});
