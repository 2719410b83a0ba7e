import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeStartFailure } from '@calmhub/platform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const main = fileURLToPath(new URL('./main.ts', import.meta.url));

/** Runs the CLI from source to its exit. */
function calmhub(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--conditions=calmhub-source', '--import', 'tsx', main, ...args], {
    env: { ...process.env, HOST: '', PORT: '', DATABASE_URL: '', CALMHUB_CONFIG: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );
}

describe('a command that cannot start prints one line and exits 1', () => {
  const busy = createServer();
  let busyPort = 0;
  let closedPort = 0;
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'calmhub-start-'));
    dirs.push(dir);
    return dir;
  };

  beforeAll(async () => {
    busyPort = await listen(busy);
    const probe = createServer();
    closedPort = await listen(probe);
    await new Promise((resolve) => probe.close(resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => busy.close(resolve));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('serve on a port in use', async () => {
    const run = await calmhub([
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      String(busyPort),
      '--data-dir',
      tempDir(),
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `calmhub serve: cannot listen on 127.0.0.1:${busyPort}: address already in use\n`,
    );
  });

  it('sandbox on a port in use', async () => {
    const run = await calmhub(['sandbox', '--port', String(busyPort), '--data', tempDir()]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      new RegExp(`^calmhub sandbox: cannot listen on [^\\n]*:${busyPort}: address already in use\\n$`),
    );
  });

  it('serve with a PostgreSQL that does not answer', async () => {
    const run = await calmhub(['serve', '--port', '0', '--data-dir', tempDir()], {
      DATABASE_URL: `postgres://calm:secret-pw@127.0.0.1:${closedPort}/calmhub`,
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`calmhub serve: cannot connect to 127.0.0.1:${closedPort}: connection refused\n`);
    expect(run.stderr + run.stdout).not.toContain('secret-pw');
  });
});

describe('describeStartFailure', () => {
  const system = (fields: Record<string, unknown>, message = 'boom') =>
    Object.assign(new Error(message), fields);

  it('names the address and the reason of listen and connect errors', () => {
    expect(
      describeStartFailure(system({ code: 'EACCES', syscall: 'listen', address: '0.0.0.0', port: 80 })),
    ).toBe('cannot listen on 0.0.0.0:80: permission denied');
    expect(
      describeStartFailure(system({ code: 'EADDRINUSE', syscall: 'listen', address: '::1', port: 4000 })),
    ).toBe('cannot listen on [::1]:4000: address already in use');
    const refused = (address: string) =>
      system({ code: 'ECONNREFUSED', syscall: 'connect', address, port: 5432 });
    expect(
      describeStartFailure(
        Object.assign(new AggregateError([refused('::1'), refused('127.0.0.1')], ''), {
          code: 'ECONNREFUSED',
        }),
      ),
    ).toBe('cannot connect to [::1]:5432, 127.0.0.1:5432: connection refused');
    expect(
      describeStartFailure(system({ code: 'ENOTFOUND', syscall: 'getaddrinfo', hostname: 'db.invalid' })),
    ).toBe('cannot resolve host db.invalid');
  });

  it('keeps other errors to one line without credentials', () => {
    expect(
      describeStartFailure(
        system({ severity: 'FATAL', code: '28P01' }, 'password authentication failed for user "calm"'),
      ),
    ).toBe('PostgreSQL: password authentication failed for user "calm"');
    expect(describeStartFailure(new Error('bad URL postgres://u:pw@host/db\n    at somewhere'))).toBe(
      'bad URL postgres://***@host/db at somewhere',
    );
    expect(describeStartFailure('text')).toBe('text');
  });
});
