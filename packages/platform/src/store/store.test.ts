import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { createStore } from './store.js';

const mode = (path: string) => statSync(path).mode & 0o777;

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

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

  it('runs synchronous transactions after the open Kysely ones, committing or rolling back whole', async () => {
    const store = createStore({ sqliteFile: join(tempDir(), 'sync.sqlite') });
    try {
      await sql`create table t (id integer primary key, v text)`.execute(store.db);
      const sqlite = store.sqlite;
      if (!sqlite) throw new Error('a SQLite store has synchronous transactions');
      let releaseOpen: () => void = () => {};
      const open = store.db.transaction().execute(async (trx) => {
        await sql`insert into t (v) values ('kysely')`.execute(trx);
        await new Promise<void>((resolve) => (releaseOpen = resolve));
      });
      await new Promise((r) => setTimeout(r, 20));
      // Waits for the open transaction instead of writing into it.
      const order: string[] = [];
      const synchronous = sqlite.transaction((prepare) => {
        order.push('sync');
        prepare('insert into t (v) values (?)').run('sync');
        return prepare('select count(*) as n from t').get() as { n: number };
      });
      await new Promise((r) => setTimeout(r, 20));
      order.push('kysely commits');
      releaseOpen();
      await open;
      expect(await synchronous).toEqual({ n: 2 });
      expect(order).toEqual(['kysely commits', 'sync']);
      await expect(
        sqlite.transaction((prepare) => {
          prepare('insert into t (v) values (?)').run('lost');
          throw new Error('changed my mind');
        }),
      ).rejects.toThrow('changed my mind');
      const rows = await sql<{ v: string }>`select v from t order by id`.execute(store.db);
      expect(rows.rows.map((r) => r.v)).toEqual(['kysely', 'sync']);
    } finally {
      await store.close();
    }
  });

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

  it('keeps the WAL small: checkpointed in the background, restarted once writes pause, removed on close', async () => {
    const file = join(tempDir(), 'hub.sqlite');
    const store = createStore({ sqliteFile: file });
    const walSize = () => statSync(`${file}-wal`).size;
    try {
      await sql`create table t (id integer primary key, v blob)`.execute(store.db);
      let largest = 0;
      for (let burst = 0; burst < 4; burst++) {
        // About 8 MB of pages, twice as many as SQLite's own checkpoint threshold.
        for (let i = 0; i < 20; i++) {
          await sql`with recursive n(i) as (select 1 union all select i + 1 from n where i < 100)
            insert into t (v) select randomblob(4000) from n`.execute(store.db);
        }
        const afterBurst = walSize();
        largest = Math.max(largest, afterBurst);
        // Once everything is copied into the database, the next write starts the WAL over and
        // cuts the file back.
        await waitUntil(async () => {
          await sql`insert into t (v) values (null)`.execute(store.db);
          return walSize() < afterBurst;
        });
      }
      expect(largest).toBeLessThan(16 * 1024 * 1024); // of the 32 MB written
    } finally {
      await store.close();
    }
    // SQLite removes the WAL when the last connection to the database closes: the checkpointer's
    // is closed too.
    expect(existsSync(`${file}-wal`)).toBe(false);
    const again = createStore({ sqliteFile: file });
    try {
      const { rows } = await sql<{ n: number }>`select count(*) as n from t where v is not null`.execute(
        again.db,
      );
      expect(rows).toEqual([{ n: 8000 }]);
    } finally {
      await again.close();
    }
  });

  it('never keeps a process alive, and lets it await close() to the end', async () => {
    const dir = tempDir();
    const script = `
      import { sql } from 'kysely';
      import { createStore } from ${JSON.stringify(fileURLToPath(new URL('./store.ts', import.meta.url)))};
      const leftOpen = createStore({ sqliteFile: ${JSON.stringify(join(dir, 'open.sqlite'))} });
      await leftOpen.ping();
      const closed = createStore({ sqliteFile: ${JSON.stringify(join(dir, 'closed.sqlite'))} });
      await closed.ping();
      await closed.close();
      console.log('closed');
      // Not a vacuous exit: the open store's checkpointer runs (SQLite's own checkpoints are off).
      await new Promise((r) => setTimeout(r, 300));
      const { rows } = await sql\`pragma wal_autocheckpoint\`.execute(leftOpen.db);
      console.log(rows[0].wal_autocheckpoint === 0 ? 'checkpointer running' : 'checkpointer gone');
    `;
    // A process kept alive would be killed at the timeout, and rejected.
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--conditions=calmhub-source', '--import', 'tsx', '--input-type=module', '--eval', script],
      { timeout: 20_000 },
    );
    expect(stdout.trim().split('\n')).toEqual(['closed', 'checkpointer running']);
  });
});
