import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, json, startHarness } from '../test-fixtures/harness.js';

/**
 * Large work must leave the event loop free for other requests. The sandbox runs in this process,
 * so a blocked loop would also hold this test's timers: a /healthz request sent 100 ms after the
 * seed started could then only leave after the seed ended. No timing is asserted, only the order
 * in which the answers arrive.
 */
describe('large seeds and lists do not block the event loop', () => {
  const STORIES = 100_000;
  let h: Harness;
  let projectId: string;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('answers /healthz while a 100,000-story seed runs', async () => {
    const order: string[] = [];
    const seed = h
      .admin('/seed', { method: 'POST', json: { features: 500, stories: STORIES, seed: 11 } })
      .then(async (response) => {
        order.push('seed');
        expect(response.status).toBe(200);
        return json<{ large: { projectId: string; tasks: number } }>(response);
      });
    await sleep(100);
    const health = fetch(`${h.sandbox.url}/healthz`).then((response) => {
      order.push('healthz');
      return response.status;
    });
    const [result, status] = await Promise.all([seed, health]);
    expect(status).toBe(200);
    expect(result.large.tasks).toBe(STORIES);
    expect(order).toEqual(['healthz', 'seed']);
    projectId = result.large.projectId;
  }, 120_000);

  it('streams an unlimited task list in chunks, byte for byte the JSON array', async () => {
    const list = await h.call(`/calm-tasks/v1/tasks?projectId=${projectId}`);
    expect(list.status).toBe(200);
    expect(list.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const tasks = JSON.parse(await list.text()) as { id: string }[];
    expect(tasks).toHaveLength(STORIES);
    expect(new Set(tasks.map((task) => task.id)).size).toBe(STORIES);
    // Same items, in the same order, as the paged answer.
    const page = await json<{ id: string }[]>(
      await h.call(`/calm-tasks/v1/tasks?projectId=${projectId}&offset=2999&limit=3`),
    );
    expect(tasks.slice(2999, 3002)).toEqual(page);
  }, 120_000);
});
