import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { createStore } from './store.js';

const mode = (path: string) => statSync(path).mode & 0o777;

describe.skipIf(process.platform === 'win32')('SQLite store files', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'calmhub-store-'));
    dirs.push(dir);
    return dir;
  };

  it('creates the database, -wal and -shm files with mode 0600', async () => {
    const file = join(tempDir(), 'nested', 'hub.sqlite');
    const store = createStore({ sqliteFile: file });
    try {
      await sql`create table t (id integer primary key, v text)`.execute(store.db);
      await sql`insert into t (v) values ('x')`.execute(store.db);
      expect(existsSync(`${file}-wal`)).toBe(true);
      expect(existsSync(`${file}-shm`)).toBe(true);
      expect(mode(file)).toBe(0o600);
      expect(mode(`${file}-wal`)).toBe(0o600);
      expect(mode(`${file}-shm`)).toBe(0o600);
    } finally {
      await store.close();
    }
  });

  it('opens an existing database without touching its mode', async () => {
    const file = join(tempDir(), 'old.sqlite');
    writeFileSync(file, '');
    chmodSync(file, 0o640);
    const store = createStore({ sqliteFile: file });
    try {
      await sql`create table t (id integer primary key)`.execute(store.db);
      expect(mode(file)).toBe(0o640);
    } finally {
      await store.close();
    }
  });
});
