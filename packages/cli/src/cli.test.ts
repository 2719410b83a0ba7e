import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPostgresTestStore, type TestStore, testDatabaseUrl } from '@calmhub/platform/testing';
import { afterEach, describe, expect, it } from 'vitest';

const main = fileURLToPath(new URL('./main.ts', import.meta.url));

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function calmhub(args: string[], env: Record<string, string> = {}): Run {
  const child = spawn(process.execPath, ['--conditions=calmhub-source', '--import', 'tsx', main, ...args], {
    env: { ...process.env, HOST: '', PORT: '', DATABASE_URL: '', CALMHUB_CONFIG: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk));
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function listeningUrl(run: Run): Promise<string> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    for (const line of run.stdout().split('\n')) {
      if (line.includes('calmhub hub listening')) return (JSON.parse(line) as { url: string }).url;
    }
    if (run.child.exitCode !== null) throw new Error(`exited early: ${run.stderr()}${run.stdout()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no listening line: ${run.stdout()}`);
}

const tempDir = () => mkdtempSync(join(tmpdir(), 'calmhub-cli-'));

describe('calmhub command', () => {
  const running: Run[] = [];
  let pg: TestStore | undefined;
  afterEach(async () => {
    for (const run of running.splice(0)) {
      run.child.kill('SIGKILL');
      await run.exited;
    }
    await pg?.cleanup();
    pg = undefined;
  });

  it('prints help and version', async () => {
    const help = calmhub(['--help']);
    expect(await help.exited).toBe(0);
    expect(help.stdout()).toMatch(/Usage: calmhub <command>/);
    expect(help.stdout()).toMatch(/serve\s+run the hub/);
    expect(help.stdout()).toMatch(/migrate\s+apply pending database migrations/);
    const version = calmhub(['--version']);
    expect(await version.exited).toBe(0);
    expect(version.stdout().trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const unknown = calmhub(['fly']);
    expect(await unknown.exited).toBe(2);
    expect(unknown.stderr()).toContain('unknown command "fly"');
  });

  it('refuses to start on a bad config value with one line naming the key', async () => {
    const run = calmhub(['serve'], { PORT: 'http', CALMHUB_DATA_DIR: tempDir() });
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toBe(
      'calmhub serve: Invalid configuration: port (PORT) must be an integer, got "http"\n',
    );
  });

  it('answers an unknown flag or a missing value with one line, not a stack trace', async () => {
    const unknownFlag = calmhub(['serve', '--bogus']);
    expect(await unknownFlag.exited).toBe(2);
    expect(unknownFlag.stderr()).toMatch(/^calmhub serve: Unknown option '--bogus'.*\n$/);
    const missingValue = calmhub(['migrate', '--port']);
    expect(await missingValue.exited).toBe(2);
    expect(missingValue.stderr().trim().split('\n')).toHaveLength(1);
  });

  it('migrates the SQLite store in the data directory, once', async () => {
    const dataDir = tempDir();
    const first = calmhub(['migrate', '--data-dir', dataDir]);
    expect(await first.exited).toBe(0);
    expect(first.stdout()).toContain('jobs/0001_jobs');
    const second = calmhub(['migrate'], { CALMHUB_DATA_DIR: dataDir });
    expect(await second.exited).toBe(0);
    expect(second.stdout()).toBe('already up to date\n');
  });

  const stores = testDatabaseUrl ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const);
  it.each(stores)('serves health, readiness and docs on %s, and stops cleanly on SIGTERM', async (engine) => {
    const env: Record<string, string> = { CALMHUB_DATA_DIR: tempDir() };
    if (engine === 'postgres') {
      pg = await createPostgresTestStore([]);
      env.DATABASE_URL = pg.location;
    }
    const run = calmhub(['serve', '--port', '0'], env);
    running.push(run);
    const url = await listeningUrl(run);
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${url}/readyz`)).json()).toEqual({ status: 'ready' });
    expect((await fetch(`${url}/api/docs/`)).status).toBe(200);
    expect(run.stdout()).toContain(`"store":"${engine}"`);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.stdout()).toContain('"msg":"stopped"');
  });
});
