import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PROJECT_ID } from '../seed/seed.js';
import { type Harness, json, startHarness } from '../test-fixtures/harness.js';
import { FaultInjector } from './fault-injector.js';

describe('FaultInjector', () => {
  it('fires exactly the configured share of matching requests, evenly spread', () => {
    const injector = new FaultInjector([
      { path: '/api/calm-tasks/v1/*', kind: 'status', status: 429, rate: 0.25 },
    ]);
    const fired = Array.from(
      { length: 100 },
      () => injector.decide('GET', '/api/calm-tasks/v1/tasks').terminal !== undefined,
    );
    expect(fired.filter(Boolean)).toHaveLength(25);
    expect(fired.slice(0, 8)).toEqual([false, false, false, true, false, false, false, true]);
    expect(injector.decide('GET', '/api/calm-features/v1/Features').terminal).toBeUndefined();
  });

  it('respects methods, limits and adds latency without ending the request', () => {
    const injector = new FaultInjector([
      { path: '*', kind: 'latency', latencyMs: 50 },
      { path: '/oauth/token', methods: ['post'], kind: 'status', status: 503, limit: 2 },
    ]);
    expect(injector.decide('GET', '/oauth/token')).toEqual({ latencyMs: 50 });
    expect(injector.decide('POST', '/oauth/token').terminal?.rule.status).toBe(503);
    expect(injector.decide('POST', '/oauth/token').terminal).toBeDefined();
    expect(injector.decide('POST', '/oauth/token').terminal).toBeUndefined();
    expect(injector.list()[1]?.fired).toBe(2);
  });

  it('decides a lost response like any terminal rule: method, path, rate and limit apply', () => {
    const injector = new FaultInjector([
      {
        path: '/api/calm-tasks/v1/tasks/*/comments',
        methods: ['POST'],
        kind: 'lost-response',
        rate: 0.5,
        limit: 2,
      },
    ]);
    expect(injector.decide('GET', '/api/calm-tasks/v1/tasks/1/comments').terminal).toBeUndefined();
    const kinds = Array.from(
      { length: 6 },
      () => injector.decide('POST', '/api/calm-tasks/v1/tasks/1/comments').terminal?.kind,
    );
    expect(kinds).toEqual([undefined, 'lost-response', undefined, 'lost-response', undefined, undefined]);
    expect(injector.list()[0]).toMatchObject({ kind: 'lost-response', status: null, fired: 2 });
  });

  it('keeps rule ids and configuration, not counters, in its definitions', () => {
    const injector = new FaultInjector([
      { path: '/oauth/token', kind: 'status', status: 429, limit: 1 },
      { path: '*', methods: ['get'], kind: 'latency', latencyMs: 5, rate: 0.5, distribution: 'random' },
    ]);
    injector.decide('GET', '/oauth/token');
    const copy = new FaultInjector();
    copy.restore(injector.definitions());
    expect(copy.list()).toEqual(injector.list().map((rule) => ({ ...rule, matched: 0, fired: 0 })));
  });

  it('rejects invalid rules', () => {
    expect(() => new FaultInjector([{ path: 'no-slash', kind: 'reset' }])).toThrow(/path/);
    expect(() => new FaultInjector([{ path: '/x', kind: 'status' }])).toThrow(/status/);
    expect(() => new FaultInjector([{ path: '/x', kind: 'latency' }])).toThrow(/latency/);
    expect(() => new FaultInjector([{ path: '/x', kind: 'reset', rate: 2 }])).toThrow(/rate/);
  });
});

describe('fault injection over HTTP', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ seed: 'demo' });
  });
  afterAll(() => h.stop());
  afterAll(() => h.admin('/faults', { method: 'DELETE' }));

  it('is off by default', async () => {
    expect(await json(await h.admin('/faults'))).toEqual({ rules: [] });
  });

  it('produces 429 with Retry-After at the configured rate, in each API family shape', async () => {
    const added = await h.admin('/faults', {
      method: 'POST',
      json: { path: '/api/calm-tasks/v1/*', kind: 'status', status: 429, rate: 0.2, retryAfterSeconds: 7 },
    });
    expect(added.status).toBe(201);
    const rule = await json<{ id: string }>(added);
    const statuses: number[] = [];
    for (let i = 0; i < 50; i++) {
      const response = await h.call(`/calm-tasks/v1/tasks?projectId=${DEMO_PROJECT_ID}&limit=1`);
      statuses.push(response.status);
      if (response.status === 429) {
        expect(response.headers.get('retry-after')).toBe('7');
        expect(await json(response)).toEqual({ message: 'Too many requests; retry later' });
      } else await response.arrayBuffer();
    }
    expect(statuses.filter((status) => status === 429)).toHaveLength(10);
    expect(statuses.filter((status) => status === 200)).toHaveLength(40);
    const listed = await json<{ rules: { id: string; matched: number; fired: number }[] }>(
      await h.admin('/faults'),
    );
    expect(listed.rules[0]).toMatchObject({ id: rule.id, matched: 50, fired: 10 });
    expect((await h.admin(`/faults/${rule.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await h.call(`/calm-tasks/v1/tasks?projectId=${DEMO_PROJECT_ID}&limit=1`)).status).toBe(200);
  });

  it('answers 503 with Retry-After as an OData error on the Features service, and 500s', async () => {
    await h.admin('/faults', {
      method: 'PUT',
      json: [
        {
          path: '/api/calm-features/v1/Features*',
          methods: ['GET'],
          kind: 'status',
          status: 503,
          retryAfterSeconds: 2,
        },
        { path: '/api/calm-projects/v1/*', kind: 'status', status: 500 },
      ],
    });
    const features = await h.call('/calm-features/v1/Features');
    expect(features.status).toBe(503);
    expect(features.headers.get('retry-after')).toBe('2');
    expect((await json<{ error: { code: string } }>(features)).error.code).toBe('SERVICE_UNAVAILABLE');
    expect((await h.call('/calm-features/v1/FeatureStatus')).status).toBe(200);
    const projects = await h.call('/calm-projects/v1/projects');
    expect(projects.status).toBe(500);
    expect(projects.headers.get('retry-after')).toBeNull();
    expect((await h.admin('/clients')).status).toBe(200);
    await h.admin('/faults', { method: 'DELETE' });
  });

  it('adds latency, resets connections and expires tokens', async () => {
    await h.admin('/faults', {
      method: 'PUT',
      json: [
        { path: '/api/calm-projects/v1/projects', kind: 'latency', latencyMs: 150 },
        { path: '/api/calm-projects/v1/timeboxes/*', kind: 'reset' },
        { path: '/api/calm-tasks/v1/workstreams', kind: 'token-expiry', limit: 1 },
      ],
    });
    const started = performance.now();
    expect((await h.call('/calm-projects/v1/projects')).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    await expect(
      h.call('/calm-projects/v1/timeboxes/00000000-0000-4000-8000-000000000000'),
    ).rejects.toThrow();
    const expired = await h.call('/calm-tasks/v1/workstreams');
    expect(expired.status).toBe(401);
    expect(expired.headers.get('www-authenticate')).toMatch(/invalid_token/);
    expect((await h.call('/calm-tasks/v1/workstreams')).status).toBe(200);
    await h.admin('/faults', { method: 'DELETE' });
  });

  it('loses the response of a request that took effect: the comment exists, the client saw a reset', async () => {
    const tasks = await json<{ id: string }[]>(
      await h.call(`/calm-tasks/v1/tasks?projectId=${DEMO_PROJECT_ID}&limit=1`),
    );
    const taskId = tasks[0]?.id as string;
    const added = await h.admin('/faults', {
      method: 'POST',
      json: {
        path: '/api/calm-tasks/v1/tasks/*/comments',
        methods: ['POST'],
        kind: 'lost-response',
        limit: 1,
      },
    });
    expect(added.status).toBe(201);
    expect(await json(added)).toMatchObject({ kind: 'lost-response', status: null, limit: 1 });

    const text = `lost answer ${Date.now()}`;
    const lost = await h
      .call(`/calm-tasks/v1/tasks/${taskId}/comments`, { method: 'POST', json: { text } })
      .then(
        (response) => ({ status: response.status, code: undefined }),
        (error: Error & { cause?: { code?: string; message?: string } }) => ({
          status: 0,
          code: error.cause?.code ?? error.cause?.message,
        }),
      );
    expect(lost.status).toBe(0);
    expect(lost.code).toMatch(/ECONNRESET|UND_ERR_SOCKET|other side closed/);

    const comments = await json<{ text: string }[]>(await h.call(`/calm-tasks/v1/tasks/${taskId}/comments`));
    expect(comments.filter((comment) => comment.text === text)).toHaveLength(1);
    // The limit is spent: the retry is answered (and, being a plain POST, adds a second comment).
    const retried = await h.call(`/calm-tasks/v1/tasks/${taskId}/comments`, {
      method: 'POST',
      json: { text },
    });
    expect(retried.status).toBe(201);
    const rules = await json<{ rules: { kind: string; fired: number }[] }>(await h.admin('/faults'));
    expect(rules.rules).toEqual([expect.objectContaining({ kind: 'lost-response', fired: 1 })]);
    await h.admin('/faults', { method: 'DELETE' });
  });

  it('throttles the token endpoint in XSUAA shape and validates rules', async () => {
    await h.admin('/faults', {
      method: 'POST',
      json: { path: '/oauth/token', kind: 'status', status: 429, limit: 1 },
    });
    const throttled = await fetch(`${h.sandbox.url}/oauth/token?grant_type=client_credentials`);
    expect(throttled.status).toBe(429);
    expect(await json(throttled)).toMatchObject({ error: 'too_many_requests' });
    expect((await h.admin('/faults', { method: 'POST', json: { path: '/x', kind: 'status' } })).status).toBe(
      400,
    );
    expect((await h.admin('/faults', { method: 'POST', json: { path: '/x', kind: 'explode' } })).status).toBe(
      400,
    );
    await h.admin('/faults', { method: 'DELETE' });
  });
});

describe('faults configured at start', () => {
  it('apply from the first request', async () => {
    const h = await startHarness({
      faults: [{ path: '/api/calm-features/v1/*', kind: 'status', status: 503, rate: 0.5 }],
    });
    try {
      const statuses = [];
      for (let i = 0; i < 10; i++) statuses.push((await h.call('/calm-features/v1/FeatureStatus')).status);
      expect(statuses.filter((s) => s === 503)).toHaveLength(5);
    } finally {
      await h.stop();
    }
  });
});
