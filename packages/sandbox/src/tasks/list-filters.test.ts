import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PROJECT_ID } from '../seed/seed.js';
import { type Harness, json, startHarness } from '../test-fixtures/harness.js';

/** Every documented filter of `GET /tasks`, tags on task rows, and unknown query parameters. */

type Task = Record<string, unknown> & {
  id: string;
  type: string;
  status: string;
  subStatus: string | null;
  assigneeId: string | null;
  tags: string[];
  lastChangedTimestamp: string;
};

let h: Harness;
const T = '/calm-tasks/v1';
const LIST = `${T}/tasks?projectId=${DEMO_PROJECT_ID}`;
let clock = Date.parse('2026-06-01T08:00:00Z');

async function list(query = ''): Promise<Task[]> {
  const response = await h.call(`${LIST}${query}`);
  expect(response.status, await response.clone().text()).toBe(200);
  expect(response.headers.get('warning')).toBeNull();
  return json<Task[]>(response);
}

beforeAll(async () => {
  h = await startHarness({
    seed: 'demo',
    now: () => {
      clock += 1000;
      return clock;
    },
  });
});
afterAll(() => h.stop());

describe('GET /tasks filters', () => {
  it('carries tags on every row; seeded stories have some', async () => {
    const all = await list();
    expect(all.every((task) => Array.isArray(task.tags))).toBe(true);
    expect(all.filter((task) => task.tags.includes('wave-1')).length).toBeGreaterThan(0);
  });

  it('filters by tags (repeated key, any of them), and tags are writable with target-state semantics', async () => {
    const all = await list();
    const wave = await list('&tags=wave-1');
    expect(wave.length).toBeGreaterThan(0);
    expect(wave.map((task) => task.id)).toEqual(
      all.filter((task) => task.tags.includes('wave-1')).map((task) => task.id),
    );
    expect(await list('&tags=no-such-tag')).toEqual([]);

    const created = await h.call(`${T}/tasks`, {
      method: 'POST',
      json: {
        projectId: DEMO_PROJECT_ID,
        title: 'Tagged',
        type: 'CALMUS',
        tags: ['alpha', ' beta ', 'alpha'],
      },
    });
    const task = await json<Task>(created);
    expect(task.tags).toEqual(['alpha', 'beta']);
    expect((await list('&tags=beta')).map((row) => row.id)).toEqual([task.id]);
    const both = await list('&tags=beta&tags=wave-1');
    expect(both.map((row) => row.id).sort()).toEqual([...wave.map((row) => row.id), task.id].sort());

    const patched = await h.call(`${T}/tasks/${task.id}`, { method: 'PATCH', json: { tags: ['gamma'] } });
    expect((await json<Task>(patched)).tags).toEqual(['gamma']);
    expect(await list('&tags=beta')).toEqual([]);
    expect((await list('&tags=gamma')).map((row) => row.id)).toEqual([task.id]);
    // The change is an event with the tags in the resource.
    const events = await json<{ events: { resource: { tags?: string[] } }[] }>(
      await h.admin(`/events?resourceId=${task.id}`),
    );
    expect(events.events.at(-1)?.resource.tags).toEqual(['gamma']);
    for (const bad of ['gamma', [1], [''], ['x'.repeat(101)]]) {
      const response = await h.call(`${T}/tasks/${task.id}`, { method: 'PATCH', json: { tags: bad } });
      expect(response.status, JSON.stringify(bad)).toBe(400);
    }
    expect(
      (await json<Task>(await h.call(`${T}/tasks/${task.id}`, { method: 'PATCH', json: { tags: null } })))
        .tags,
    ).toEqual([]);
  });

  it('filters by id (one comma-separated value), type, status, subStatus and assigneeId', async () => {
    const all = await list();
    const picked = [all[0], all[3], all[5]].map((task) => (task as Task).id);
    expect((await list(`&id=${picked.join(',')}`)).map((task) => task.id).sort()).toEqual([...picked].sort());

    const requirement = all.find((task) => task.type === 'CALMREQU' && task.subStatus) as Task;
    const assignee = all.find((task) => task.assigneeId) as Task;
    for (const [param, value, field] of [
      ['type', 'CALMDEF', 'type'],
      ['status', requirement.status, 'status'],
      ['subStatus', requirement.subStatus as string, 'subStatus'],
      ['assigneeId', assignee.assigneeId as string, 'assigneeId'],
    ] as const) {
      const rows = await list(`&${param}=${encodeURIComponent(value)}`);
      expect(rows.length, param).toBeGreaterThan(0);
      expect(rows.every((task) => task[field] === value)).toBe(true);
      expect(rows.length).toBe(all.filter((task) => task[field] === value).length);
    }
  });

  it('filters by lastChangedDate and lastChangedTimestamp with gt:, eq:, lt:', async () => {
    const all = await list();
    const pivot = all[Math.floor(all.length / 2)] as Task;
    const at = Date.parse(pivot.lastChangedTimestamp);
    const count = (predicate: (ms: number) => boolean) =>
      all.filter((task) => predicate(Date.parse(task.lastChangedTimestamp))).length;
    const stamp = encodeURIComponent(pivot.lastChangedTimestamp);
    expect((await list(`&lastChangedTimestamp=gt:${stamp}`)).length).toBe(count((ms) => ms > at));
    expect((await list(`&lastChangedTimestamp=lt:${stamp}`)).length).toBe(count((ms) => ms < at));
    expect((await list(`&lastChangedTimestamp=eq:${stamp}`)).map((task) => task.id)).toContain(pivot.id);
    const day = pivot.lastChangedTimestamp.slice(0, 10);
    const dayStart = Date.parse(`${day}T00:00:00Z`);
    const dayEnd = dayStart + 86_400_000;
    expect((await list(`&lastChangedDate=eq:${day}`)).length).toBe(
      count((ms) => ms >= dayStart && ms < dayEnd),
    );
    expect((await list(`&lastChangedDate=lt:${day}`)).length).toBe(count((ms) => ms < dayStart));
    expect((await list(`&lastChangedDate=gt:${day}`)).length).toBe(count((ms) => ms >= dayEnd));
  });

  it('pages with offset and limit', async () => {
    const all = await list();
    expect((await list('&offset=2&limit=3')).map((task) => task.id)).toEqual(
      all.slice(2, 5).map((task) => task.id),
    );
  });
});

describe('unknown query parameters', () => {
  it('are ignored but named in a Warning header on GET /tasks; $ options still answer 400', async () => {
    const all = await list();
    const response = await h.call(`${LIST}&foo=1&assignee=x&foo=2`);
    expect(response.status).toBe(200);
    expect(response.headers.get('warning')).toBe(
      '199 - "unknown query parameter ignored: foo", 199 - "unknown query parameter ignored: assignee"',
    );
    expect((await json<Task[]>(response)).length).toBe(all.length);
    expect((await h.call(`${LIST}&foo=1&$top=1`)).status).toBe(400);
    // A name that could not go into a header as it is is made printable and quoted safely.
    const odd = await h.call(`${LIST}&${encodeURIComponent('a"b\\c\u00e9')}=1`);
    expect(odd.headers.get('warning')).toBe('199 - "unknown query parameter ignored: a\\"b\\\\c?"');
  });

  it('are named on the other Tasks and Projects lists too', async () => {
    for (const path of [
      `${T}/deliverables?projectId=${DEMO_PROJECT_ID}&bar=1`,
      `${T}/workstreams?bar=1`,
      `${T}/tasks/solutionProcessAssignments?projectId=${DEMO_PROJECT_ID}&bar=1`,
      '/calm-projects/v1/projects?bar=1',
      `/calm-projects/v1/projects/${DEMO_PROJECT_ID}/timeboxes?bar=1`,
    ]) {
      const response = await h.call(path);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('warning'), path).toBe('199 - "unknown query parameter ignored: bar"');
    }
    const known = await h.call(`${T}/tasks/solutionProcessAssignments?projectId=${DEMO_PROJECT_ID}&limit=5`);
    expect(known.headers.get('warning')).toBeNull();
  });
});
