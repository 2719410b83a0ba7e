import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildHub, FakeCloudAlm, type Hub } from '@calmhub/hub';
import { FAKE_CALM_PROJECT, FAKE_SECRET, fakeConnectors, seedFakeCalm } from '@calmhub/hub/testing';
import { createLogger, loadConfig } from '@calmhub/platform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calmhub } from '../testing/run-in-process.js';

describe('calmhub as a client of a running hub', () => {
  let dataDir: string;
  let hub: Hub;
  let url: string;
  let token: string;
  const client = (...args: string[]) => calmhub(...args, '--url', url, '--token', token);

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'calmhub-cli-client-'));
    // Before any server ever ran: the command sets the data up and prints a token for the first admin.
    const created = await calmhub('tokens', 'create', '--name', 'laptop', '--data-dir', dataDir);
    expect(created.code, created.err).toBe(0);
    token = created.out.trim();
    expect(token).toMatch(/^chub_[0-9a-f]{32}_[A-Za-z0-9_-]{43}$/);

    const calm = new FakeCloudAlm(FAKE_SECRET);
    seedFakeCalm(calm);
    const config = loadConfig({ env: {}, overrides: { port: 0, dataDir, logLevel: 'silent' } });
    hub = await buildHub({ config, logger: createLogger('silent'), connectors: fakeConnectors(calm) });
    url = await hub.start();
  });
  afterAll(async () => {
    await hub?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('walks the seed: project, credential, test, integration with the Cloud ALM project by name', async () => {
    expect((await client('projects', 'add', '--name', 'Finance')).code).toBe(0);
    const projects = await client('projects');
    expect(projects.out).toMatch(/^ID\s+NAME\s+YOUR ROLE/);
    expect(projects.out).toContain('Finance');

    const added = await client(
      'credentials',
      'add',
      '--name',
      'Cloud ALM',
      '--client-id',
      'sb-x',
      '--client-secret',
      FAKE_SECRET,
      '--auth-url',
      'https://x.authentication.eu10.hana.ondemand.com',
      '--api-url',
      'https://x.eu10.alm.cloud.sap/api',
    );
    expect(added.code, added.err).toBe(0);
    expect(added.out).not.toContain(FAKE_SECRET);
    const tested = await client('credentials', 'test', 'cloud alm');
    expect(tested.code).toBe(0);
    expect(tested.out).toMatch(/result:\s+ok/);

    const integration = await client(
      'integrations',
      'add',
      '--project',
      'Finance',
      '--name',
      'Cloud ALM',
      '--credential',
      'Cloud ALM',
      '--calm-project',
      FAKE_CALM_PROJECT.name,
      '--json',
    );
    expect(integration.code, integration.err).toBe(0);
    const created = JSON.parse(integration.out);
    expect(created).toMatchObject({
      calmProject: FAKE_CALM_PROJECT,
      hostUrl: 'https://x.eu10.alm.cloud.sap/api',
    });
    expect(created.webhook.url).toContain(`/calm/pmsint/${created.id}/sync?secretKey=`);
    const list = await client('integrations', '--project', 'Finance');
    expect(list.out).toContain(`${FAKE_CALM_PROJECT.name} (${FAKE_CALM_PROJECT.id})`);
  });

  it('syncs an integration by name and ends with the counts', async () => {
    const synced = await client('sync', 'Cloud ALM', '--project', 'Finance', '--json');
    expect(synced.code, synced.err).toBe(0);
    expect(JSON.parse(synced.out)).toMatchObject({
      mode: 'full',
      state: 'succeeded',
      progress: { phase: 'done' },
    });
    const table = await client('sync', 'Cloud ALM', '--project', 'Finance', '--mode', 'delta');
    expect(table.out).toMatch(/state:\s+succeeded/);
    expect(table.out).toMatch(/calls:\s+\d+/);
    const bad = await client('sync', 'Cloud ALM', '--project', 'Finance', '--mode', 'nope');
    expect(bad.code).toBe(2);
  });

  it('shows the webhook URL with the setup checklist, and the inbox', async () => {
    const shown = await client('webhook-url', 'Cloud ALM', '--project', 'Finance');
    expect(shown.code, shown.err).toBe(0);
    expect(shown.out).toMatch(/webhook url:\s+http:\/\/127\.0\.0\.1:\d+\/ratesaptms\/webhook\/tenant\//);
    expect(shown.out).toContain('waiting for the first real event');
    expect(shown.out).toMatch(/1\. \[ \] SAP BTP → Connectivity → Destinations/);
    const tested = await client('webhook-url', 'Cloud ALM', '--project', 'Finance', '--self-test', '--json');
    expect(tested.code, tested.out).toBe(0);
    expect(JSON.parse(tested.out).selfTest).toMatchObject({ ok: true });
    const inbox = await client('inbox', 'Cloud ALM', '--project', 'Finance', '--json');
    expect(JSON.parse(inbox.out)).toEqual([
      expect.objectContaining({ state: 'processed', reason: 'Self-test: routing and key proven' }),
    ]);
  });

  it('reports a failing credential test with the remote words and a non-zero exit', async () => {
    await client(
      'credentials',
      'add',
      '--name',
      'Wrong',
      '--client-id',
      'x',
      '--client-secret',
      'nope',
      '--auth-url',
      'https://x.example',
    );
    const tested = await client('credentials', 'test', 'Wrong', '--json');
    expect(tested.code).toBe(1);
    expect(JSON.parse(tested.out)).toMatchObject({
      ok: false,
      remoteStatus: 401,
      message: 'Token service answered 401: Bad credentials',
    });
  });

  it('adds and lists users; prints the API error and exits 1 on refusal', async () => {
    expect((await client('users', 'add', '--email', 'dev@example.com', '--sap-user', 'DEV1')).code).toBe(0);
    const users = await client('users', '--json');
    expect(JSON.parse(users.out).map((u: { email: string }) => u.email)).toEqual([
      'admin@localhost',
      'dev@example.com',
    ]);
    const duplicate = await client('users', 'add', '--email', 'dev@example.com');
    expect(duplicate.code).toBe(1);
    expect(duplicate.err).toMatch(/^error: A user with e-mail dev@example.com already exists \(request /);
    const missing = await client('integrations', '--project', 'Nope');
    expect(missing.err).toContain('no project "Nope" (known: Finance)');
  });

  it('creates tokens for a named user and for another tenant where the data lives', async () => {
    const forDev = await calmhub(
      'tokens',
      'create',
      '--name',
      'dev',
      '--user',
      'dev@example.com',
      '--data-dir',
      dataDir,
    );
    expect(forDev.code, forDev.err).toBe(0);
    const me = await calmhub('users', '--url', url, '--token', forDev.out.trim(), '--json');
    expect(me.code).toBe(0);
    const tenant = await calmhub(
      'tenants',
      'add',
      '--name',
      'acme',
      '--admin-email',
      'ops@acme.example',
      '--data-dir',
      dataDir,
    );
    expect(tenant.code, tenant.err).toBe(0);
    const acmeToken = tenant.out.trim().split('\n').at(-1) as string;
    const acmeProjects = await calmhub('projects', '--url', url, '--token', acmeToken, '--json');
    expect(JSON.parse(acmeProjects.out)).toEqual([]);
    expect((await client('tokens', '--json')).out).toContain('laptop');
  });

  it('explains a missing hub and bad flags', async () => {
    const down = await calmhub('projects', '--url', 'http://127.0.0.1:9', '--token', token);
    expect(down.code).toBe(1);
    expect(down.err).toMatch(/cannot reach the hub at http:\/\/127.0.0.1:9/);
    const bad = await client('projects', '--bogus');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/Unknown option '--bogus'/);
  });
});
