import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandboxEvent } from '../events/events.js';
import { DEMO_PROJECT_ID } from '../seed/seed.js';
import { type Harness, json, startHarness } from '../test-fixtures/harness.js';

type Overview = {
  projects: {
    id: string;
    featureCount: number;
    features: {
      uuid: string;
      displayId: string;
      title: string;
      statusCode: string;
      actions: { id: string; label: string }[];
      tasks: { type: string }[];
    }[];
  }[];
};

let h: Harness;
const received: SandboxEvent[] = [];

beforeAll(async () => {
  h = await startHarness({ seed: 'demo', onEvent: (event) => received.push(event) });
});
afterAll(() => h.stop());

async function overview(): Promise<Overview> {
  return json<Overview>(await h.admin('/overview'));
}

describe('lifecycle actions', () => {
  it('lists the UI actions', async () => {
    const actions = await json<{ id: string; label: string; to: string }[]>(
      await h.admin('/lifecycle/actions'),
    );
    expect(actions.map((a) => a.label)).toEqual(
      expect.arrayContaining([
        'Start Implementation',
        'Handover to Test',
        'Confirm Successful Test',
        'Approve for Production',
        'Deploy',
      ]),
    );
  });

  it('offers the actions that fit each feature and lists its user stories', async () => {
    const { projects } = await overview();
    const finance = projects.find((p) => p.id === DEMO_PROJECT_ID);
    expect(finance?.featureCount).toBe(12);
    const created = finance?.features.find((f) => f.statusCode === 'CREATED');
    expect(created?.actions.map((a) => a.id).sort()).toEqual(['set-not-planned', 'start-implementation']);
    expect(created?.tasks.length).toBeGreaterThan(0);
    expect(created?.tasks.every((t) => t.type === 'CALMUS')).toBe(true);
    const deployed = finance?.features.find((f) => f.statusCode === 'CONFIRMED');
    expect(deployed?.actions).toEqual([]);
  });

  it('walks a feature through its lifecycle exactly like PATCHes would, event by event', async () => {
    const feature = await json<{ uuid: string }>(
      await h.call('/calm-features/v1/Features', {
        method: 'POST',
        json: { title: 'Walk the lifecycle', projectId: DEMO_PROJECT_ID },
      }),
    );
    const steps: [string, string][] = [
      ['start-implementation', 'IN_REALIZATION'],
      ['handover-to-test', 'IN_TESTING'],
      ['back-to-implementation', 'IN_REALIZATION'],
      ['handover-to-test', 'IN_TESTING'],
      ['confirm-successful-test', 'SUCCESSFULLY_TESTED'],
      ['approve-for-production', 'APPROVED_FOR_DEPLOYMENT'],
      ['deploy', 'CONFIRMED'],
    ];
    for (const [action, status] of steps) {
      const response = await h.admin(`/features/${feature.uuid}/actions/${action}`, { method: 'POST' });
      expect(response.status, action).toBe(200);
      expect((await json<{ statusCode: string }>(response)).statusCode).toBe(status);
    }
    const api = await json<{ statusCode: string }>(
      await h.call(`/calm-features/v1/Features/${feature.uuid}`),
    );
    expect(api.statusCode).toBe('CONFIRMED');
    const stream = (
      await json<{ events: SandboxEvent[] }>(await h.admin(`/events?resourceId=${feature.uuid}`))
    ).events;
    expect(stream.map((e) => e.eventType)).toEqual([
      'FEATURE.CREATED',
      ...steps.map(() => 'FEATURE.UPDATED'),
    ]);
    expect(stream.slice(1).map((e) => e.resource.statusCode)).toEqual(steps.map(([, status]) => status));
    expect(stream[1]?.actor).toBe('sandbox-admin');
    expect(received.filter((e) => e.resourceId === feature.uuid)).toHaveLength(stream.length);
  });

  it('refuses actions that do not fit the status (409) and unknown actions (404)', async () => {
    const { projects } = await overview();
    const deployed = projects[0]?.features.find((f) => f.statusCode === 'CONFIRMED');
    const response = await h.admin(`/features/${deployed?.uuid}/actions/start-implementation`, {
      method: 'POST',
    });
    expect(response.status).toBe(409);
    expect((await json<{ error: { code: string } }>(response)).error.code).toBe('conflict');
    expect((await h.admin(`/features/${deployed?.uuid}/actions/fly`, { method: 'POST' })).status).toBe(404);
    expect(
      (await h.admin('/features/00000000-0000-4000-8000-000000000000/actions/deploy', { method: 'POST' }))
        .status,
    ).toBe(404);
  });
});

describe('links made in the UI', () => {
  it('assigns and unassigns user stories to features', async () => {
    const story = await json<{ id: string }>(
      await h.call('/calm-tasks/v1/tasks', {
        method: 'POST',
        json: { projectId: DEMO_PROJECT_ID, title: 'Linked story', type: 'CALMUS' },
      }),
    );
    const { projects } = await overview();
    const feature = projects[0]?.features[0];
    const assigned = await h.admin(`/features/${feature?.uuid}/task-assignments`, {
      method: 'POST',
      json: { taskId: story.id },
    });
    expect(assigned.status).toBe(201);
    const viaFeatures = await json<{ value: { taskId: string }[] }>(
      await h.call(
        `/calm-features/v1/TaskAssignments?$filter=${encodeURIComponent(`taskId eq ${story.id}`)}`,
      ),
    );
    expect(viaFeatures.value).toHaveLength(1);
    const viaTasks = await json<{ featureId: string }[]>(
      await h.call(`/calm-tasks/v1/tasks/${story.id}/featureAssignments`),
    );
    expect(viaTasks.map((a) => a.featureId)).toEqual([feature?.uuid]);
    expect(
      (await h.admin(`/features/${feature?.uuid}/task-assignments/${story.id}`, { method: 'DELETE' })).status,
    ).toBe(204);
    expect(await json(await h.call(`/calm-tasks/v1/tasks/${story.id}/featureAssignments`))).toEqual([]);
    expect(
      (
        await h.admin(`/features/${feature?.uuid}/task-assignments`, {
          method: 'POST',
          json: { taskId: '00000000-0000-4000-8000-000000000000' },
        })
      ).status,
    ).toBe(404);
  });

  it('registers transports and attaches them to features', async () => {
    const created = await h.admin('/transports', {
      method: 'POST',
      json: { transportId: 'S4DK999001', description: 'Fix', owner: 'dev@example.com' },
    });
    expect(created.status).toBe(201);
    const transport = await json<{ uuid: string; status: string }>(created);
    expect(transport.status).toBe('modifiable');
    expect(
      (await h.admin('/transports', { method: 'POST', json: { transportId: 'S4DK999001' } })).status,
    ).toBe(409);
    const { projects } = await overview();
    const feature = projects[0]?.features[1];
    expect(
      (
        await h.admin(`/features/${feature?.uuid}/transports`, {
          method: 'POST',
          json: { transportUuid: transport.uuid },
        })
      ).status,
    ).toBe(201);
    const released = await json<{ status: string }>(
      await h.admin(`/transports/${transport.uuid}`, { method: 'PATCH', json: { status: 'released' } }),
    );
    expect(released.status).toBe('released');
    const refs = await json<{ value: { transportId: string }[] }>(
      await h.call(
        `/calm-features/v1/TransportReferences?$filter=${encodeURIComponent(`parentUuid eq ${feature?.uuid}`)}`,
      ),
    );
    expect(refs.value.map((r) => r.transportId)).toContain('S4DK999001');
    expect(
      (await h.admin(`/features/${feature?.uuid}/transports/${transport.uuid}`, { method: 'DELETE' })).status,
    ).toBe(204);
  });
});

describe('change events', () => {
  it('are durable, ordered by seq and readable with a cursor', async () => {
    const first = await json<{ events: SandboxEvent[]; nextAfter: number }>(await h.admin('/events?limit=3'));
    expect(first.events).toHaveLength(3);
    const seqs = first.events.map((e) => e.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    const next = await json<{ events: SandboxEvent[] }>(
      await h.admin(`/events?after=${first.nextAfter}&limit=1000`),
    );
    expect(next.events.every((e) => e.seq > first.nextAfter)).toBe(true);
    const tasksOnly = await json<{ events: SandboxEvent[] }>(await h.admin('/events?resourceType=TASK'));
    expect(tasksOnly.events.every((e) => e.resourceType === 'TASK')).toBe(true);
    expect((await h.admin('/events?after=-1')).status).toBe(400);
    const latest = await json<{ events: SandboxEvent[] }>(await h.admin('/events?latest=true&limit=2'));
    const everything = await json<{ events: SandboxEvent[] }>(await h.admin('/events?limit=1000'));
    expect(latest.events.map((e) => e.seq)).toEqual(everything.events.slice(-2).map((e) => e.seq));
  });
});

describe('sandbox UI and admin OpenAPI', () => {
  it('serves the page with lifecycle buttons driven by the admin API', async () => {
    const page = await fetch(`${h.sandbox.url}/ui`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const html = await page.text();
    expect(html).toContain('/features/');
    expect(html).toContain("'/actions/'");
    const script = /<script>([\s\S]*)<\/script>/.exec(html)?.[1] ?? '';
    // The page's script must at least parse; it runs in the browser, not here.
    expect(() => new Function(script)).not.toThrow();
    const root = await fetch(`${h.sandbox.url}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
  });

  it('documents the admin API in its own OpenAPI document without the Cloud ALM routes', async () => {
    const document = await json<{ paths: Record<string, unknown>; info: { title: string } }>(
      await fetch(`${h.sandbox.url}/admin/openapi.json`),
    );
    expect(document.info.title).toBe('Cloud ALM sandbox admin API');
    const paths = Object.keys(document.paths);
    expect(paths).toContain('/admin/clients');
    expect(paths).toContain('/admin/features/{uuid}/actions/{action}');
    expect(paths.some((p) => p.startsWith('/api/calm-'))).toBe(false);
  });

  it('changes settings at runtime and validates them', async () => {
    const settings = await json<{ pageSize: number }>(
      await h.admin('/settings', { method: 'PATCH', json: { pageSize: 250 } }),
    );
    expect(settings.pageSize).toBe(250);
    expect((await h.admin('/settings', { method: 'PATCH', json: { pageSize: 0 } })).status).toBe(400);
    expect(
      (await h.admin('/feature-status-transitions', { method: 'PUT', json: { CREATED: ['DONE'] } })).status,
    ).toBe(400);
    await h.admin('/settings', { method: 'PATCH', json: { pageSize: 1000 } });
  });
});
