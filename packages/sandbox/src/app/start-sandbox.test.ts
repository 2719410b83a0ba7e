import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminQuery, createTestStore, type TestStore, testEngines } from '@calmhub/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceKey } from '../auth/clients.js';
import { readEvents } from '../events/events.js';
import { DEMO_PROJECT_ID } from '../seed/seed.js';
import { json, tokenFor } from '../test-fixtures/harness.js';
import { type SandboxOptions, sandboxMigrationSets, startSandbox } from './start-sandbox.js';

describe.each(testEngines)('a persistent sandbox (%s)', (engine) => {
  let dataDir: string;
  let testStore: TestStore | undefined;
  let options: SandboxOptions;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'calm-sandbox-'));
    options = { port: 0, dataDir, seed: 'demo', logLevel: 'silent' };
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

  it('writes the service key and admin token, and keeps data, credentials and tokens across restarts', async () => {
    const first = await startSandbox(options);
    let featureUuid: string;
    let accessToken: string;
    try {
      expect(first.serviceKeyPath).toBe(join(dataDir, 'sandbox', 'service-key.json'));
      expect(first.adminTokenPath).toBe(join(dataDir, 'sandbox', 'admin-token'));
      const fileKey = JSON.parse(readFileSync(first.serviceKeyPath as string, 'utf8')) as ServiceKey;
      expect(fileKey).toEqual(first.serviceKey);
      expect(fileKey.endpoints.Api).toBe(`${first.url}/api`);
      expect(readFileSync(first.adminTokenPath as string, 'utf8').trim()).toBe(first.adminToken);
      expect(statSync(first.serviceKeyPath as string).mode & 0o777).toBe(0o600);
      expect(statSync(first.adminTokenPath as string).mode & 0o777).toBe(0o600);
      expect(readFileSync(join(dataDir, 'sandbox', 'master.key'), 'utf8')).not.toContain(
        fileKey.uaa.clientsecret,
      );

      accessToken = await tokenFor(fileKey);
      const created = await fetch(`${first.apiUrl}/calm-features/v1/Features`, {
        method: 'POST',
        headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'Survives restarts', projectId: DEMO_PROJECT_ID }),
      });
      expect(created.status).toBe(201);
      featureUuid = (await json<{ uuid: string }>(created)).uuid;
      const patched = await fetch(`${first.apiUrl}/calm-features/v1/Features/${featureUuid}`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ statusCode: 'IN_REALIZATION' }),
      });
      expect(patched.status).toBe(200);
    } finally {
      await first.stop();
    }

    const second = await startSandbox(options);
    try {
      expect(second.seeded.demo?.skipped).toBe(true);
      expect(second.adminToken).toBe(first.adminToken);
      expect(second.serviceKey.uaa.clientid).toBe(first.serviceKey.uaa.clientid);
      expect(second.serviceKey.uaa.clientsecret).toBe(first.serviceKey.uaa.clientsecret);
      const feature = await fetch(`${second.apiUrl}/calm-features/v1/Features/${featureUuid}`, {
        headers: { authorization: `Bearer ${accessToken}` },
      });
      expect(feature.status).toBe(200);
      expect((await json<{ statusCode: string }>(feature)).statusCode).toBe('IN_REALIZATION');
      const stream = await readEvents(second.context.db, { resourceId: featureUuid });
      expect(stream.map((event) => [event.eventType, event.resource.statusCode])).toEqual([
        ['FEATURE.CREATED', 'CREATED'],
        ['FEATURE.UPDATED', 'IN_REALIZATION'],
      ]);
      expect(stream[1]?.seq).toBeGreaterThan(stream[0]?.seq ?? Number.POSITIVE_INFINITY);
      const expire = await fetch(`${second.url}/admin/tokens/expire`, {
        method: 'POST',
        headers: { authorization: `Bearer ${second.adminToken}` },
      });
      expect(expire.status).toBe(200);
    } finally {
      await second.stop();
    }

    const third = await startSandbox(options);
    try {
      const stale = await fetch(`${third.apiUrl}/calm-projects/v1/projects`, {
        headers: { authorization: `Bearer ${accessToken}` },
      });
      expect(stale.status).toBe(401);
      const fresh = await tokenFor(third.serviceKey);
      expect(
        (
          await fetch(`${third.apiUrl}/calm-projects/v1/projects`, {
            headers: { authorization: `Bearer ${fresh}` },
          })
        ).status,
      ).toBe(200);
    } finally {
      await third.stop();
    }
  });
});

describe('an in-memory sandbox', () => {
  it('keeps nothing on disk but still writes the key files', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'calm-sandbox-mem-'));
    try {
      const sandbox = await startSandbox({ port: 0, dataDir, memory: true, logLevel: 'silent' });
      try {
        const files = ['service-key.json', 'admin-token'].map((file) =>
          statSync(join(dataDir, 'sandbox', file)).isFile(),
        );
        expect(files).toEqual([true, true]);
        expect(() => statSync(join(dataDir, 'sandbox', 'sandbox.sqlite'))).toThrow();
        expect(() => statSync(join(dataDir, 'sandbox', 'master.key'))).toThrow();
        const ready = await fetch(`${sandbox.url}/readyz`);
        expect(ready.status).toBe(200);
      } finally {
        await sandbox.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
