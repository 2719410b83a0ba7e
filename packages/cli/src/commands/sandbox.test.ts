import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { launchSandbox, sandboxCommand, sandboxOptionsFromArgs } from './sandbox.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: {
      stdout: { write: (text: string) => out.push(text) },
      stderr: { write: (text: string) => err.push(text) },
    },
    out,
    err,
  };
}

describe('calmhub sandbox', () => {
  it('starts with --seed demo, writes the service key and admin token, and prints where they are', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'calmhub-cli-sandbox-'));
    const { io, out } = capture();
    const sandbox = await launchSandbox(
      ['--port', '0', '--memory', '--data', dataDir, '--seed', 'demo', '--log-level', 'silent'],
      io,
    );
    try {
      const printed = out.join('');
      const keyPath = join(dataDir, 'sandbox', 'service-key.json');
      const tokenPath = join(dataDir, 'sandbox', 'admin-token');
      expect(printed).toContain(keyPath);
      expect(printed).toContain(tokenPath);
      expect(printed).toContain(`${sandbox.url}/api`);
      expect(printed).toContain('/oauth/token');
      expect(printed).not.toContain(sandbox.serviceKey.uaa.clientsecret);
      expect(printed).not.toContain(sandbox.adminToken);

      const key = JSON.parse(readFileSync(keyPath, 'utf8')) as {
        uaa: { url: string; clientid: string; clientsecret: string };
        endpoints: { Api: string };
      };
      const form = new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: key.uaa.clientid,
        client_secret: key.uaa.clientsecret,
      });
      const token = (await (
        await fetch(`${key.uaa.url}/oauth/token`, { method: 'POST', body: form })
      ).json()) as { access_token: string };
      const projects = await fetch(`${key.endpoints.Api}/calm-projects/v1/projects`, {
        headers: { authorization: `Bearer ${token.access_token}` },
      });
      expect(((await projects.json()) as unknown[]).length).toBe(2);
      const admin = await fetch(`${sandbox.url}/admin/info`, {
        headers: { authorization: `Bearer ${readFileSync(tokenPath, 'utf8').trim()}` },
      });
      expect(admin.status).toBe(200);
    } finally {
      await sandbox.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('translates flags into sandbox options with documented defaults', () => {
    expect(sandboxOptionsFromArgs([])).toMatchObject({
      port: 4100,
      host: '127.0.0.1',
      dataDir: './data',
      memory: false,
    });
    const options = sandboxOptionsFromArgs([
      '--seed-features',
      '5000',
      '--seed-stories',
      '25000',
      '--page-size',
      '200',
      '--token-lifetime',
      '60',
      '--database-url',
      'postgres://u@h/db',
    ]);
    expect(options).toMatchObject({
      seedFeatures: 5000,
      seedStories: 25000,
      settings: { pageSize: 200, tokenLifetimeSeconds: 60 },
      databaseUrl: 'postgres://u@h/db',
    });
  });

  it.each([
    ['--seed', 'big'],
    ['--port', 'x'],
    ['--nope'],
    ['--seed-stories', '10'],
    ['--database-url', 'mysql://x'],
    ['--faults', '/does/not/exist.json'],
  ])('refuses %j with exit code 2', async (...args) => {
    const { io, err } = capture();
    expect(await sandboxCommand.run(args, io)).toBe(2);
    expect(err.join('')).toMatch(/^calmhub sandbox: /);
  });

  it.each([
    ['a rule without kind', [{ path: '/api/*', status: 503 }]],
    ['a status fault without status', [{ path: '*', kind: 'status' }]],
    ['a rate above 1', [{ path: '*', kind: 'reset', rate: 2 }]],
    ['a latency given as a string', [{ path: '*', kind: 'latency', latencyMs: '300' }]],
    ['a rule that is not an object', [null]],
  ])('refuses --faults with %s: one usage line, exit code 2, no stack trace', async (_name, rules) => {
    const dir = mkdtempSync(join(tmpdir(), 'calmhub-cli-faults-'));
    const file = join(dir, 'rules.json');
    writeFileSync(file, JSON.stringify(rules));
    try {
      const { io, err, out } = capture();
      expect(await sandboxCommand.run(['--faults', file, '--port', '0', '--memory', '--data', dir], io)).toBe(
        2,
      );
      const message = err.join('');
      expect(message).toMatch(new RegExp(`^calmhub sandbox: invalid --faults ${file}: rule 1: .+\n$`));
      expect(message.split('\n')).toHaveLength(2);
      expect(message).not.toMatch(/\s+at /);
      expect(out.join('')).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
