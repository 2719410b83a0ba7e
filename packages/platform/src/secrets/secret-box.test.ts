import { fork } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { constantTimeEqual, createSecretBox, parseMasterKey, readOrCreateKeyFile } from './secret-box.js';

describe('secret box', () => {
  const key = Buffer.alloc(32, 7);

  it('seals with a fresh IV and opens only with the same key', () => {
    const box = createSecretBox(key);
    const a = box.seal('client-secret');
    const b = box.seal('client-secret');
    expect(a).not.toBe(b);
    expect(a).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(a).not.toContain('client-secret');
    expect(box.open(a)).toBe('client-secret');
    expect(box.open(box.seal(''))).toBe('');
    expect(createSecretBox(Buffer.alloc(32, 8)).open(a)).toBeUndefined();
  });

  it('refuses tampered or malformed values', () => {
    const box = createSecretBox(key);
    const [version, iv, tag, data] = box.seal('value').split('.');
    const flipped = `${data?.[0] === 'A' ? 'B' : 'A'}${data?.slice(1)}`;
    expect(box.open([version, iv, tag, flipped].join('.'))).toBeUndefined();
    expect(box.open('v2.a.b.c')).toBeUndefined();
    expect(box.open('not sealed')).toBeUndefined();
    expect(box.open(`${box.seal('value')}.extra`)).toBeUndefined();
  });

  it('wants a 32-byte key', () => {
    expect(() => createSecretBox(Buffer.alloc(16))).toThrow(/32 bytes/);
  });
});

describe('master key', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'calmhub-key-'));
    dirs.push(dir);
    return dir;
  };

  it('parses base64 and base64url of 32 bytes, and names the source otherwise', () => {
    const key = Buffer.alloc(32, 255);
    expect(parseMasterKey(key.toString('base64'))).toEqual(key);
    expect(parseMasterKey(` ${key.toString('base64url')}\n`)).toEqual(key);
    expect(() => parseMasterKey('c2hvcnQ=', 'masterKey (MASTER_KEY)')).toThrow(
      'masterKey (MASTER_KEY) must be the base64 of 32 bytes',
    );
    expect(() => parseMasterKey('not base64 at all!')).toThrow(/32 bytes/);
  });

  it('creates the key file once with mode 0600 and reads it back afterwards', () => {
    const dir = tempDir();
    const path = join(dir, 'master.key');
    const first = readOrCreateKeyFile(path);
    expect(first).toHaveLength(32);
    if (process.platform !== 'win32') expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(path, 'utf8').trim(), 'base64')).toEqual(first);
    expect(readOrCreateKeyFile(path)).toEqual(first);
    expect(readFileSync(path, 'utf8')).toMatch(/^[A-Za-z0-9+/]+=*\n$/);
    // No temporary files are left behind.
    expect(readdirSync(dir)).toEqual(['master.key']);
  });

  it('refuses a key file that does not hold a key instead of replacing it', () => {
    const path = join(tempDir(), 'master.key');
    writeFileSync(path, 'garbage');
    expect(() => readOrCreateKeyFile(path)).toThrow(`the key file ${path} must be the base64 of 32 bytes`);
    expect(readFileSync(path, 'utf8')).toBe('garbage');
  });

  it('gives processes that start together the same key', async () => {
    const dir = tempDir();
    const path = join(dir, 'master.key');
    const script = join(dir, 'race.mjs');
    // Each child sleeps until just before the same moment, spins to it, then reads or creates the key.
    writeFileSync(
      script,
      `const { readOrCreateKeyFile } = await import(${JSON.stringify(new URL('./secret-box.ts', import.meta.url).href)});
       const at = Number(process.argv[2]);
       Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.max(0, at - Date.now() - 20));
       while (Date.now() < at) {}
       process.send(readOrCreateKeyFile(process.argv[3]).toString('base64'), () => process.exit(0));`,
    );
    const at = Date.now() + 3000;
    const keys = await Promise.all(
      Array.from(
        { length: 4 },
        () =>
          new Promise<string>((resolve, reject) => {
            const child = fork(script, [String(at), path], { execArgv: ['--import', 'tsx'] });
            child.on('message', (message) => resolve(String(message)));
            child.on('error', reject);
            child.on('exit', (code) => code !== 0 && reject(new Error(`child exited ${code}`)));
          }),
      ),
    );
    expect(new Set(keys).size).toBe(1);
    expect(readFileSync(path, 'utf8').trim()).toBe(keys[0]);
    expect(readdirSync(dir).sort()).toEqual(['master.key', 'race.mjs']);
  });
});

describe('constantTimeEqual', () => {
  it('compares strings of any length', () => {
    expect(constantTimeEqual('token-abc', 'token-abc')).toBe(true);
    expect(constantTimeEqual('token-abc', 'token-abd')).toBe(false);
    expect(constantTimeEqual('short', 'a much longer value')).toBe(false);
    expect(constantTimeEqual('', '')).toBe(true);
    expect(constantTimeEqual('', 'x')).toBe(false);
    expect(constantTimeEqual('é', 'e\u0301')).toBe(false);
  });
});
