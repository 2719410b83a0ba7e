import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildHub, FakeCloudAlm, type Hub } from '@calmhub/hub';
import { FAKE_SECRET, fakeConnectors, seedFakeCalm } from '@calmhub/hub/testing';
import { createLogger, loadConfig } from '@calmhub/platform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calmhub } from '../testing/run-in-process.js';

describe('calmhub audit', () => {
  let dataDir: string;
  let hub: Hub;
  let url: string;
  let token: string;
  const client = (...args: string[]) => calmhub(...args, '--url', url, '--token', token);

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'calmhub-cli-audit-'));
    const created = await calmhub('tokens', 'create', '--name', 'laptop', '--data-dir', dataDir);
    expect(created.code, created.err).toBe(0);
    token = created.out.trim();
    const calm = new FakeCloudAlm(FAKE_SECRET);
    seedFakeCalm(calm);
    const config = loadConfig({ env: {}, overrides: { port: 0, dataDir, logLevel: 'silent' } });
    hub = await buildHub({ config, logger: createLogger('silent'), connectors: fakeConnectors(calm) });
    url = await hub.start();
    expect((await client('projects', 'add', '--name', 'Finance')).code).toBe(0);
    expect((await client('projects', 'add', '--name', 'Payroll')).code).toBe(0);
  });
  afterAll(async () => {
    await hub?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('lists the tenant log newest first, filtered, as a table or JSON', async () => {
    const table = await client('audit');
    expect(table.code, table.err).toBe(0);
    expect(table.out).toMatch(/^TIME\s+ACTOR\s+ROLE\s+KIND\s+OBJECT\s+REQUEST/);
    // The first token came from an operator command on the store.
    expect(table.out).toMatch(/system:calmhub operator\s+-\s+token\.created/);
    const lines = table.out.trim().split('\n').slice(1);
    expect(lines[0]).toMatch(/project\.created\s+project Payroll/);

    const json = await client('audit', '--kind', 'project.created', '--kind', 'token.created', '--json');
    expect(json.code, json.err).toBe(0);
    const entries = JSON.parse(json.out) as Array<{ kind: string; role: string | null }>;
    // The operator's first start and `tokens create` each made a token before the projects.
    const kinds = entries.map((e) => e.kind);
    expect(kinds.slice(0, 2)).toEqual(['project.created', 'project.created']);
    expect(new Set(kinds.slice(2))).toEqual(new Set(['token.created']));
    expect(entries[0]?.role).toBe('tenant_admin');

    const limited = await client('audit', '--limit', '1', '--json');
    expect(JSON.parse(limited.out)).toHaveLength(1);
    const future = await client('audit', '--since', '2999-01-01');
    expect(future.out.trim()).toBe('(none)');
  });

  it("reads one project's log by name, and exports CSV", async () => {
    const project = await client('audit', '--project', 'Finance', '--json');
    expect(project.code, project.err).toBe(0);
    expect(JSON.parse(project.out).map((e: { object: { label: string } }) => e.object.label)).toEqual([
      'Finance',
    ]);

    const csv = await client('audit', '--csv', '--kind', 'project.created');
    expect(csv.code, csv.err).toBe(0);
    const [header, ...rows] = csv.out.trim().split('\n');
    expect(header).toMatch(/^id,occurredAt,projectId,actorKind,actorId,actorLabel,role,kind,/);
    expect(rows).toHaveLength(2);
    const projectCsv = await client('audit', '--csv', '--project', 'Payroll');
    expect(projectCsv.out.trim().split('\n')).toHaveLength(2);
  });

  it("refuses bad flags before calling the hub, and prints the hub's own error", async () => {
    expect((await client('audit', '--since', 'yesterday')).code).toBe(2);
    expect((await client('audit', '--csv', '--json')).code).toBe(2);
    expect((await client('audit', '--limit', '0')).code).toBe(2);
    const badKind = await client('audit', '--kind', 'nonsense');
    expect(badKind.code).toBe(1);
    expect(badKind.err).toMatch(/^error: /);
    const unknown = await client('audit', '--project', 'Nowhere');
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/no project "Nowhere"/);
  });
});
