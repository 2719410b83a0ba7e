import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { testDatabaseUrl } from '@calmhub/platform/testing';
import { type Sandbox, startSandbox } from '@calmhub/sandbox';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { hubCall, hubProcesses, linkAndSync, sandboxAdmin, until } from './helpers.js';

const PIPELINE = `
name: Transports
stages:
  - key: dev
    name: Development
    targets: { ctms: { credential: CTMS, node: DEV } }
  - key: test
    name: Quality
    targets: { ctms: { credential: CTMS, node: QAS } }
    tasks:
      deploy:
        - type: deployment
          name: Import transports
          kind: ctms_import
`;
const IMPORT_ROUTE = 'POST /ctms/v2/nodes/:nodeId/transportRequests/import';
const engines = testDatabaseUrl ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const);

/**
 * SIGKILL of the hub while a CTMS import it started is running: after a restart the run resumes
 * from its memoised steps, reads the request's status instead of importing again, and finishes.
 */
describe('release pipeline: SIGKILL of the hub during a deployment task', () => {
  const hubs = hubProcesses();
  afterEach(() => hubs.stopAll());

  it.each(engines)(
    'finishes the run after a restart with exactly one import (%s)',
    async (engine) => {
      const sandbox: Sandbox = await startSandbox({
        port: 0,
        memory: true,
        seed: 'demo',
        logLevel: 'silent',
      });
      hubs.cleanups.push(() => sandbox.stop());
      // Long enough for the kill to land while the import runs.
      await sandboxAdmin(sandbox, 'PATCH', '/ctms/settings', { importDurationMs: 4000 });
      const { dataDir, env } = await hubs.environment(engine, {
        CALMHUB_LOG_LEVEL: 'info',
        CALMHUB_JOB_POLL_INTERVAL_MS: '100',
        CALMHUB_JOB_LEASE_MS: '2000',
        CALMHUB_SYNC_DELTA_INTERVAL_MS: '3600000',
        CALMHUB_SYNC_SWEEP_INTERVAL_MS: '3600000',
      });
      const startHub = () => hubs.start(env);

      let hub = await startHub();
      const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
      const api = async (url: string, method: string, path: string, body?: unknown) => {
        const answer = await hubCall(url, token, method, path, body);
        if (answer.status >= 300) throw new Error(`${method} ${path}: ${answer.status} ${answer.text}`);
        return answer.body;
      };
      await linkAndSync(hub.url, token, sandbox);
      const [project] = (await api(hub.url, 'GET', '/api/v1/projects')).items;
      await api(hub.url, 'POST', '/api/v1/credentials', {
        name: 'CTMS',
        serviceKey: await sandboxAdmin(sandbox, 'GET', '/ctms/service-key'),
      });
      const imported = await request(`${hub.url}/api/v1/projects/${project.id}/pipelines/import`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'text/yaml' },
        body: PIPELINE,
      });
      expect(imported.statusCode, await imported.body.text()).toBeLessThan(300);

      // A story with the released transport S4DK900121 ("Close periods"), queued in QAS.
      const { groups } = await api(hub.url, 'GET', `/api/v1/projects/${project.id}/stories?limit=500`);
      const story = (
        groups as Array<{ feature: { title: string } | null; stories: Array<{ id: string }> }>
      ).find((g) => g.feature?.title === 'Close periods')?.stories[0] as { id: string };
      await api(hub.url, 'POST', `/api/v1/stories/${story.id}/components`, {
        abapTransport: { number: 'S4DK900121' },
      });
      const transports = (await sandboxAdmin(sandbox, 'GET', '/transports')) as Array<{
        uuid: string;
        transportId: string;
      }>;
      const transport = transports.find((t) => t.transportId === 'S4DK900121') as { uuid: string };
      await sandboxAdmin(sandbox, 'POST', `/transports/${transport.uuid}/release`);
      await sandboxAdmin(sandbox, 'DELETE', '/request-log');

      const run = await api(hub.url, 'POST', `/api/v1/stories/${story.id}/promote`, {});
      // The import has started (its POST went out): kill the hub in the middle of it.
      await until(
        'the import to start',
        async () => {
          const { routes } = await sandboxAdmin(sandbox, 'GET', '/request-log');
          return routes[IMPORT_ROUTE]?.total === 1;
        },
        30_000,
      );
      hub.run.child.kill('SIGKILL');
      await hub.run.exited;

      hub = await startHub();
      const finished = await until(
        'the run to finish after the restart',
        async () => {
          const { run: current } = await api(hub.url, 'GET', `/api/v1/runs/${run.id}`);
          return (current.state === 'passed' || current.state === 'failed') && current;
        },
        60_000,
      );
      expect(finished.state, JSON.stringify(finished.tasks)).toBe('passed');
      expect(finished.tasks[0].result.requests).toMatchObject([{ label: 'S4DK900121', status: 'succeeded' }]);
      const { routes } = await sandboxAdmin(sandbox, 'GET', '/request-log');
      expect(routes[IMPORT_ROUTE]?.total).toBe(1);
    },
    180_000,
  );
});
