import { createTestStore, type TestStore, testEngines } from '@calmhub/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxMigrationSets } from '../app/start-sandbox.js';
import type { SandboxEvent } from '../events/events.js';
import { DEMO_PROJECT_ID, DEMO_SECOND_PROJECT_ID } from '../seed/seed.js';
import { type Harness, json, startHarness } from '../test-fixtures/harness.js';

type Relation = { id: string; sourceTaskId: string; targetTaskId: string; type: string };
type Task = { id: string; title: string; type: string; lastChangedTimestamp?: string };

describe.each(testEngines)('task relations on %s', (engine) => {
  let testStore: TestStore;
  let h: Harness;
  let stories: Map<string, string>;
  let hrStory: string;

  const tasks = '/calm-tasks/v1/tasks';

  beforeAll(async () => {
    testStore = await createTestStore(engine, sandboxMigrationSets);
    h = await startHarness({ store: testStore.store, seed: 'demo' });
    const list = await json<Task[]>(await h.call(`${tasks}?projectId=${DEMO_PROJECT_ID}&type=CALMUS`));
    stories = new Map(list.map((task) => [task.title, task.id]));
    const hr = await json<Task[]>(await h.call(`${tasks}?projectId=${DEMO_SECOND_PROJECT_ID}&type=CALMUS`));
    hrStory = hr[0]?.id as string;
  });
  afterAll(async () => {
    await h?.stop();
    await testStore?.cleanup();
  });

  const story = (title: string) => {
    const id = stories.get(title);
    if (!id) throw new Error(`no story ${title}`);
    return id;
  };

  it('seeds story dependencies, listed from both ends', async () => {
    const chain = story('Period-end job chain for accruals');
    const response = await h.call(`${tasks}/${chain}/relations`);
    expect(response.status).toBe(200);
    const relations = await json<Relation[]>(response);
    expect(relations).toEqual([
      {
        id: expect.any(String),
        sourceTaskId: chain,
        targetTaskId: story('Open and close posting periods by company code'),
        type: 'DEPENDS_ON',
      },
      {
        id: expect.any(String),
        sourceTaskId: story('Close cockpit task list'),
        targetTaskId: chain,
        type: 'DEPENDS_ON',
      },
    ]);
    const none = await json<Relation[]>(await h.call(`${tasks}/${story('CAMT.053 import')}/relations`));
    expect(none.map((relation) => relation.sourceTaskId)).toEqual([story('Search strings for clearing')]);
  });

  it('creates and deletes a relation; the source task changes with a TASK.UPDATED event', async () => {
    const source = story('Credit segment setup');
    const target = story('Documented credit decision');
    const before = await json<Task>(await h.call(`${tasks}/${source}`));
    const { events: last } = await json<{ events: SandboxEvent[] }>(
      await h.admin('/events?latest=true&limit=1'),
    );
    const cursor = last[0]?.seq ?? 0;

    const created = await h.call(`${tasks}/${source}/relations`, {
      method: 'POST',
      json: { targetTaskId: target.toUpperCase(), type: 'BLOCKS' },
    });
    expect(created.status).toBe(201);
    const relation = await json<Relation>(created);
    expect(relation).toEqual({
      id: expect.any(String),
      sourceTaskId: source,
      targetTaskId: target,
      type: 'BLOCKS',
    });
    expect(await json<Relation[]>(await h.call(`${tasks}/${target}/relations`))).toContainEqual(relation);

    const after = await json<Task>(await h.call(`${tasks}/${source}`));
    expect(after.lastChangedTimestamp).not.toBe(before.lastChangedTimestamp);
    const { events } = await json<{ events: SandboxEvent[] }>(await h.admin(`/events?after=${cursor}`));
    expect(events.map((event) => [event.eventType, event.resourceId])).toEqual([['TASK.UPDATED', source]]);

    const duplicate = await h.call(`${tasks}/${source}/relations`, {
      method: 'POST',
      json: { targetTaskId: target, type: 'BLOCKS' },
    });
    expect(duplicate.status).toBe(409);
    expect(await json(duplicate)).toEqual({
      message: expect.stringContaining('already has a BLOCKS relation'),
    });

    const removed = await h.call(`${tasks}/relations/${relation.id}`, { method: 'DELETE' });
    expect(removed.status).toBe(204);
    expect(await json<Relation[]>(await h.call(`${tasks}/${source}/relations`))).toEqual([]);
    const again = await h.call(`${tasks}/relations/${relation.id}`, { method: 'DELETE' });
    expect(again.status).toBe(404);
    expect(await json(again)).toEqual({ message: `Relation with id ${relation.id} not found` });
  });

  it('refuses bad bodies with a 400 { message }', async () => {
    const source = story('Liquidity items');
    const post = (body: unknown) => h.call(`${tasks}/${source}/relations`, { method: 'POST', json: body });
    const cases: [unknown, string][] = [
      [{ targetTaskId: story('Forecast from purchase orders'), type: 'DUPLICATES' }, 'Invalid relation type'],
      [{ targetTaskId: story('Forecast from purchase orders') }, "Property 'type' is required"],
      [{ targetTaskId: source, type: 'RELATES_TO' }, 'cannot be related to itself'],
      [{ targetTaskId: hrStory, type: 'RELATES_TO' }, 'different projects'],
      [{ targetTaskId: story('Forecast from purchase orders'), type: 'BLOCKS', extra: 1 }, "'extra'"],
    ];
    for (const [body, message] of cases) {
      const response = await post(body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect((await json<{ message: string }>(response)).message).toContain(message);
    }
    const missing = await post({ targetTaskId: '00000000-0000-4000-8000-000000000000', type: 'BLOCKS' });
    expect(missing.status).toBe(404);
    expect((await h.call(`${tasks}/not-a-guid/relations`)).status).toBe(404);
  });

  it('asks for tasks.read / tasks.write and hides other projects like missing tasks', async () => {
    const source = story('Workflow scenario for payment batches');
    const target = story('Output management for dunning');
    const reader = await h.client({ scopes: ['tasks.read'] });
    expect((await h.call(`${tasks}/${source}/relations`, { token: reader.token })).status).toBe(200);
    const denied = await h.call(`${tasks}/${source}/relations`, {
      method: 'POST',
      token: reader.token,
      json: { targetTaskId: target, type: 'RELATES_TO' },
    });
    expect(denied.status).toBe(403);
    const noScope = await h.client({ scopes: ['features.read'] });
    expect((await h.call(`${tasks}/${source}/relations`, { token: noScope.token })).status).toBe(403);

    // A client restricted to the HR project: the finance tasks and relations do not exist for it.
    const hr = await h.client({
      scopes: ['tasks.read', 'tasks.write'],
      projectIds: [DEMO_SECOND_PROJECT_ID],
    });
    const hidden = await h.call(`${tasks}/${source}/relations`, { token: hr.token });
    expect(hidden.status).toBe(404);
    expect(await json(hidden)).toEqual({ message: `Task with id ${source} not found` });
    const created = await json<Relation>(
      await h.call(`${tasks}/${source}/relations`, {
        method: 'POST',
        json: { targetTaskId: target, type: 'RELATES_TO' },
      }),
    );
    const foreign = await h.call(`${tasks}/relations/${created.id}`, { method: 'DELETE', token: hr.token });
    expect(foreign.status).toBe(404);
    expect((await h.call(`${tasks}/relations/${created.id}`, { method: 'DELETE' })).status).toBe(204);
  });

  it('drops the relations of a deleted task', async () => {
    const created = await json<Task>(
      await h.call(tasks, {
        method: 'POST',
        json: { projectId: DEMO_PROJECT_ID, title: 'Temporary story', type: 'CALMUS' },
      }),
    );
    const target = story('Archive link configuration');
    expect(
      (
        await h.call(`${tasks}/${created.id}/relations`, {
          method: 'POST',
          json: { targetTaskId: target, type: 'DEPENDS_ON' },
        })
      ).status,
    ).toBe(201);
    expect((await h.call(`${tasks}/${created.id}`, { method: 'DELETE' })).status).toBe(204);
    expect(await json<Relation[]>(await h.call(`${tasks}/${target}/relations`))).toEqual([]);
  });
});
