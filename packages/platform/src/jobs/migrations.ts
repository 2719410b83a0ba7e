import { sql } from 'kysely';
import type { MigrationSet } from '../store/migrations.js';

export const jobsMigrations: MigrationSet = {
  name: 'jobs',
  migrations: {
    '0001_jobs': {
      async up({ db, dialect, types }) {
        await db.schema
          .createTable('calmhub_jobs')
          .addColumn('id', types.serial, (c) =>
            dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey(),
          )
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('payload', types.json, (c) => c.notNull())
          // Only set while the job has never been claimed: dedupe means "not started yet".
          .addColumn('dedupe_key', 'text')
          .addColumn('ordering_key', 'text')
          .addColumn('priority', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('run_at', types.timestamp, (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('max_attempts', 'integer', (c) => c.notNull())
          .addColumn('locked_by', 'text')
          .addColumn('locked_until', types.timestamp)
          .addColumn('last_error', 'text')
          .addColumn('created_at', types.timestamp, (c) => c.notNull())
          .addColumn('updated_at', types.timestamp, (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('calmhub_jobs_dedupe')
          .on('calmhub_jobs')
          .column('dedupe_key')
          .unique()
          .execute();
        await db.schema
          .createIndex('calmhub_jobs_due')
          .on('calmhub_jobs')
          .columns(['priority desc', 'run_at', 'id'])
          .where(sql<boolean>`state = 'queued'`)
          .execute();
        await db.schema
          .createIndex('calmhub_jobs_ordering')
          .on('calmhub_jobs')
          .columns(['ordering_key', 'id'])
          .where(sql<boolean>`ordering_key is not null and state in ('queued', 'running')`)
          .execute();
        await db.schema
          .createIndex('calmhub_jobs_lease')
          .on('calmhub_jobs')
          .column('locked_until')
          .where(sql<boolean>`state = 'running'`)
          .execute();

        await db.schema
          .createTable('calmhub_job_steps')
          .addColumn('job_id', 'bigint', (c) => c.notNull().references('calmhub_jobs.id').onDelete('cascade'))
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('result', types.json, (c) => c.notNull())
          .addColumn('created_at', types.timestamp, (c) => c.notNull())
          .addPrimaryKeyConstraint('calmhub_job_steps_pk', ['job_id', 'name'])
          .execute();

        await db.schema
          .createTable('calmhub_schedules')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('every_ms', types.timestamp, (c) => c.notNull())
          .addColumn('next_run_at', types.timestamp, (c) => c.notNull())
          .addColumn('job_name', 'text', (c) => c.notNull())
          .addColumn('payload', types.json, (c) => c.notNull())
          .addColumn('updated_at', types.timestamp, (c) => c.notNull())
          .execute();

        if (dialect === 'postgres') {
          // One notification per inserting statement, delivered at commit, wakes idle workers.
          await sql`create function calmhub_jobs_notify() returns trigger language plpgsql as $$
            begin perform pg_notify('calmhub_jobs', ''); return null; end $$`.execute(db);
          await sql`create trigger calmhub_jobs_inserted after insert on calmhub_jobs
            for each statement execute function calmhub_jobs_notify()`.execute(db);
        }
      },
    },
  },
};
