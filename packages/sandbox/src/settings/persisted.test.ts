import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminQuery, createTestStore, type TestStore, testEngines } from '@calmhub/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Sandbox,
  type SandboxOptions,
  sandboxMigrationSets,
  startSandbox,
} from '../app/start-sandbox.js';
import { json } from '../test-fixtures/harness.js';

function adminOf(sandbox: Sandbox) {
  return async <T = unknown>(path: string, method = 'GET', body?: unknown): Promise<T> => {
    const response = await fetch(`${sandbox.url}/admin${path}`, {
      method,
      headers: {
        authorization: `Bearer ${sandbox.adminToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    expect(response.status, `${method} ${path}: ${await response.clone().text()}`).toBeLessThan(300);
    return response.status === 204 ? (undefined as T) : json<T>(response);
  };
}

const MATRIX = { CREATED: ['IN_REALIZATION'], IN_REALIZATION: ['IN_TESTING', 'CREATED'] };

/** What the admin API shows of every persisted setting. */
async function readAll(sandbox: Sandbox) {
  const admin = adminOf(sandbox);
  return {
    settings: await admin('/settings'),
    matrix: await admin('/feature-status-transitions'),
    faults: (await admin<{ rules: Record<string, unknown>[] }>('/faults')).rules.map(
      ({ matched: _m, fired: _f, ...rule }) => rule,
    ),
    eam: await admin('/eam/settings'),
    ctms: await admin('/ctms/settings'),
    cpi: await admin('/cpi/settings'),
    servicenow: await admin('/servicenow/settings'),
    servicenowFaults: (await admin<{ rules: Record<string, unknown>[] }>('/servicenow/faults')).rules.map(
      ({ matched: _m, fired: _f, ...rule }) => rule,
    ),
  };
}

async function changeAll(sandbox: Sandbox): Promise<void> {
  const admin = adminOf(sandbox);
  await admin('/settings', 'PATCH', {
    pageSize: 7,
    emitTaskDeleted: true,
    featureCreateStatuses: ['CREATED', 'IN_REALIZATION'],
  });
  await admin('/feature-status-transitions', 'PUT', MATRIX);
  await admin('/faults', 'POST', {
    path: '/api/calm-projects/v1/*',
    kind: 'status',
    status: 503,
    retryAfterSeconds: 9,
  });
  await admin('/faults', 'POST', {
    path: '/api/calm-tasks/v1/tasks/*/comments',
    methods: ['POST'],
    kind: 'lost-response',
    rate: 0.5,
    limit: 3,
  });
  await admin('/eam/settings', 'PATCH', { retryJitter: 0.05, requestTimeoutMs: 4321 });
  await admin('/ctms/settings', 'PATCH', { importDurationMs: 123 });
  await admin('/cpi/settings', 'PATCH', { deployDurationMs: 456, sessionTtlSeconds: 789 });
  await admin('/servicenow/settings', 'PATCH', { defaultLimit: 55 });
  await admin('/servicenow/faults', 'PUT', [
    { path: '/api/now/table/*', kind: 'status', status: 429, limit: 2 },
  ]);
}

describe.each(testEngines)('runtime settings across restarts (%s)', (engine) => {
  let dataDir: string;
  let testStore: TestStore | undefined;
  let options: SandboxOptions;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'calm-settings-'));
    options = { port: 0, dataDir, logLevel: 'silent' };
    if (engine === 'postgres') {
      testStore = await createTestStore(engine, sandboxMigrationSets);
      // The sandbox opens its own connection to the cloned database.
      await testStore.store.close();
      options.databaseUrl = testStore.location;
    }
  });
  afterAll(async () => {
    rmSync(dataDir, { recursive: true, force: true });
    if (testStore) {
      const name = new URL(testStore.location).pathname.slice(1);
      await adminQuery(`drop database if exists ${name} with (force)`);
    }
  });

  it('keeps settings, the status matrix, fault rules and module settings', async () => {
    const first = await startSandbox(options);
    let before: Awaited<ReturnType<typeof readAll>>;
    try {
      const defaults = await readAll(first);
      await changeAll(first);
      before = await readAll(first);
      expect(before).not.toEqual(defaults);
      expect(before).toMatchObject({
        settings: {
          pageSize: 7,
          emitTaskDeleted: true,
          featureCreateStatuses: ['CREATED', 'IN_REALIZATION'],
        },
        matrix: MATRIX,
        eam: { retryJitter: 0.05, requestTimeoutMs: 4321 },
        ctms: { importDurationMs: 123 },
        cpi: { deployDurationMs: 456, sessionTtlSeconds: 789 },
        servicenow: { defaultLimit: 55 },
      });
      expect(before.faults).toHaveLength(2);
      expect(before.servicenowFaults).toHaveLength(1);
    } finally {
      await first.stop();
    }

    const second = await startSandbox(options);
    try {
      expect(await readAll(second)).toEqual(before);
      // The restored rule is live (and keeps its id, so it can be deleted by it).
      const projects = await fetch(`${second.apiUrl}/calm-projects/v1/projects`, {
        headers: { authorization: 'Bearer whatever' },
      });
      expect(projects.status).toBe(503);
      expect(projects.headers.get('retry-after')).toBe('9');
      const admin = adminOf(second);
      await admin(`/faults/${before.faults[0]?.id}`, 'DELETE');
      await admin('/settings', 'PATCH', { pageSize: 8 });
    } finally {
      await second.stop();
    }

    // Explicit start options win for the run; the rest still comes from the store.
    const third = await startSandbox({ ...options, settings: { tokenLifetimeSeconds: 60 } });
    try {
      const after = await readAll(third);
      expect(after.settings).toMatchObject({ pageSize: 8, tokenLifetimeSeconds: 60, emitTaskDeleted: true });
      expect(after.faults).toEqual(before.faults.slice(1));
      expect(after.matrix).toEqual(MATRIX);
    } finally {
      await third.stop();
    }
  });
});

describe('--memory', () => {
  it('keeps runtime settings in memory only', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'calm-settings-mem-'));
    try {
      const options: SandboxOptions = { port: 0, dataDir, memory: true, logLevel: 'silent' };
      const first = await startSandbox(options);
      let defaults: Awaited<ReturnType<typeof readAll>>;
      try {
        defaults = await readAll(first);
        await changeAll(first);
        expect((await readAll(first)).settings).toMatchObject({ pageSize: 7 });
      } finally {
        await first.stop();
      }
      const second = await startSandbox(options);
      try {
        expect(await readAll(second)).toEqual(defaults);
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
