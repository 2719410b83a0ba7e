import { randomUUID } from 'node:crypto';
import { createTestStore, type TestStore, testEngines } from '@calmhub/platform/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, sandboxMigrationSets, startSandbox } from '../app/start-sandbox.js';
import { readEvents, type SandboxEvent, withEvents } from './events.js';

function gate(): { promise: Promise<void>; open: () => void } {
  let open = () => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

// SQLite has one writer at a time, so commit order is seq order by construction; the advisory
// lock withEvents takes exists for PostgreSQL, where a sequence hands out numbers before commit.
describe.skipIf(!testEngines.includes('postgres'))('event stream order on postgres', () => {
  let testStore: TestStore;
  let sandbox: Sandbox;
  beforeAll(async () => {
    testStore = await createTestStore('postgres', sandboxMigrationSets);
    sandbox = await startSandbox({ store: testStore.store, port: 0, logLevel: 'silent' });
  });
  afterAll(async () => {
    await sandbox?.stop();
    await testStore?.cleanup();
  });

  it('blocks a second writer until the first commits, so a reader never sees a later seq before an earlier one', async () => {
    const ctx = sandbox.context;
    const ids = { a: randomUUID(), b: randomUUID() };
    const ours = (events: SandboxEvent[]) =>
      events.filter((event) => event.resourceId === ids.a || event.resourceId === ids.b);
    const snapshots: SandboxEvent[][] = [];
    const look = async () => {
      const seen = ours(await readEvents(ctx.db, { after: 0, limit: 1000 }));
      snapshots.push(seen);
      return seen;
    };

    const aEmitted = gate();
    const aRelease = gate();
    const a = withEvents(ctx, 'writer-a', async (_trx, emit) => {
      await emit({ eventType: 'TASK.UPDATED', resourceId: ids.a, projectId: null, resource: { id: ids.a } });
      aEmitted.open();
      await aRelease.promise;
    });
    let b: Promise<void> = Promise.resolve();
    try {
      await aEmitted.promise;
      // A has inserted (and holds its seq) but not committed: nobody may see it yet.
      expect(await look()).toEqual([]);

      let bCommitted = false;
      b = withEvents(ctx, 'writer-b', async (_trx, emit) => {
        await emit({
          eventType: 'TASK.UPDATED',
          resourceId: ids.b,
          projectId: null,
          resource: { id: ids.b },
        });
      }).then(() => {
        bCommitted = true;
      });

      // Wait (by state, not by time) until B is queued behind A's advisory lock, or has slipped past it.
      for (;;) {
        const waiting = await sql<{ count: number | string }>`
          select count(*) as count from pg_locks
          where locktype = 'advisory' and not granted
            and database = (select oid from pg_database where datname = current_database())`.execute(ctx.db);
        if (Number(waiting.rows[0]?.count ?? 0) > 0 || bCommitted) break;
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(bCommitted).toBe(false);
      // While A is open, B cannot have committed an event numbered after A's.
      expect(await look()).toEqual([]);

      aRelease.open();
      await a;
      await look();
      await b;
    } finally {
      // On failure too: an open transaction would keep the pool (and afterAll) waiting.
      aRelease.open();
      await Promise.allSettled([a, b]);
    }
    const final = await look();

    expect(final.map((event) => event.resourceId)).toEqual([ids.a, ids.b]);
    expect(final[0]?.actor).toBe('writer-a');
    expect((final[0]?.seq ?? 0) < (final[1]?.seq ?? 0)).toBe(true);
    // Every view a polling consumer could have had is a prefix of the final order: a cursor kept
    // at the last seq seen never skips an event that commits later.
    for (const snapshot of snapshots) {
      expect(snapshot.map((event) => event.seq)).toEqual(
        final.slice(0, snapshot.length).map((event) => event.seq),
      );
    }
  });
});
