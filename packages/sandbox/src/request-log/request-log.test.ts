import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PROJECT_ID } from '../seed/seed.js';
import { type Harness, json, startHarness } from '../test-fixtures/harness.js';
import { RequestLog, type RequestLogSnapshot } from './request-log.js';

describe('RequestLog', () => {
  it('counts per method, route and outcome, and resets', () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const log = new RequestLog(() => now);
    log.record('GET', '/a/:id', '2xx');
    log.record('GET', '/a/:id', '4xx');
    log.record('POST', '/a', 'dropped');
    expect(log.snapshot()).toEqual({
      since: '2026-01-01T00:00:00.000Z',
      total: 3,
      routes: { 'GET /a/:id': { total: 2, '2xx': 1, '4xx': 1 }, 'POST /a': { total: 1, dropped: 1 } },
    });
    now += 1000;
    expect(log.reset().total).toBe(3);
    expect(log.snapshot()).toEqual({ since: '2026-01-01T00:00:01.000Z', total: 0, routes: {} });
  });
});

describe('request log over HTTP', () => {
  let h: Harness;
  let taskId: string;
  const log = async () => json<RequestLogSnapshot>(await h.admin('/request-log'));

  beforeAll(async () => {
    h = await startHarness({ seed: 'demo' });
    const tasks = await json<{ id: string }[]>(
      await h.call(`/calm-tasks/v1/tasks?projectId=${DEMO_PROJECT_ID}&limit=1`),
    );
    taskId = tasks[0]?.id as string;
  });
  afterAll(() => h.stop());

  it('counts the calls a client made by route pattern and status class, without admin calls', async () => {
    expect((await h.admin('/request-log', { method: 'DELETE' })).status).toBe(200);
    await h.call(`/calm-tasks/v1/tasks/${taskId}`);
    await h.call(`/calm-tasks/v1/tasks/${taskId}`);
    await h.call('/calm-tasks/v1/tasks/00000000-0000-4000-8000-000000000000');
    await h.call(`/calm-tasks/v1/tasks/${taskId}/comments`, { method: 'POST', json: { text: 'counted' } });
    await h.call('/calm-tasks/v1/no-such-thing');
    await h.admin('/faults');

    const snapshot = await log();
    expect(snapshot.routes).toEqual({
      'GET /api/calm-tasks/v1/tasks/:id': { total: 3, '2xx': 2, '4xx': 1 },
      'POST /api/calm-tasks/v1/tasks/:id/comments': { total: 1, '2xx': 1 },
      'GET (no route)': { total: 1, '4xx': 1 },
    });
    expect(snapshot.total).toBe(5);
  });

  it('counts faulted calls: injected statuses by class, resets and lost responses as dropped', async () => {
    await h.admin('/request-log', { method: 'DELETE' });
    await h.admin('/faults', {
      method: 'PUT',
      json: [
        { path: '/api/calm-tasks/v1/tasks/*/comments', methods: ['POST'], kind: 'lost-response', limit: 1 },
        { path: '/api/calm-tasks/v1/tasks/*', methods: ['GET'], kind: 'status', status: 503, limit: 1 },
        { path: '/api/calm-tasks/v1/workstreams', kind: 'reset', limit: 1 },
      ],
    });
    try {
      await expect(
        h.call(`/calm-tasks/v1/tasks/${taskId}/comments`, { method: 'POST', json: { text: 'lost' } }),
      ).rejects.toThrow();
      expect((await h.call(`/calm-tasks/v1/tasks/${taskId}`)).status).toBe(503);
      await expect(h.call(`/calm-tasks/v1/workstreams?projectId=${DEMO_PROJECT_ID}`)).rejects.toThrow();
    } finally {
      await h.admin('/faults', { method: 'DELETE' });
    }
    const cleared = await json<RequestLogSnapshot>(await h.admin('/request-log', { method: 'DELETE' }));
    expect(cleared.routes).toEqual({
      'POST /api/calm-tasks/v1/tasks/:id/comments': { total: 1, dropped: 1 },
      'GET /api/calm-tasks/v1/tasks/:id': { total: 1, '5xx': 1 },
      'GET /api/calm-tasks/v1/workstreams': { total: 1, dropped: 1 },
    });
    expect((await log()).total).toBe(0);
  });

  it('is admin-only', async () => {
    const response = await fetch(`${h.sandbox.url}/admin/request-log`);
    expect(response.status).toBe(401);
  });
});
