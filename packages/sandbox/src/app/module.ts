import type { HttpApp, JobHandler, MigrationSet } from '@calmhub/platform';
import type { FastifyRequest } from 'fastify';
import type { Transaction } from 'kysely';
import type { SandboxTables } from '../store/tables.js';
import type { ReleasedTransport } from '../transports/release.js';
import type { SandboxContext } from './context.js';

/**
 * One emulated service or capability plugged into the sandbox (External API Management,
 * ServiceNow, CTMS, Cloud Integration...). The sandbox applies its migrations, registers its
 * routes, runs its jobs and seeds it; a module never edits another module's files.
 */
export interface SandboxModule {
  name: string;
  /** Its own tables, tracked in `calmhub_<name>_migrations`. */
  migrations?: MigrationSet;
  /** Public routes: the emulated API itself. */
  register?(app: HttpApp, ctx: SandboxContext): void | Promise<void>;
  /** Routes under `/admin`, behind the admin token, answering with calmhub's error contract. */
  registerAdmin?(scope: HttpApp, ctx: SandboxContext): void | Promise<void>;
  /**
   * Who else may call this module's admin routes: resolves to let a bearer token that is not
   * the admin token in, throws a 401/403 CalmError to refuse.
   */
  adminAccess?(ctx: SandboxContext): (request: FastifyRequest) => Promise<void>;
  /**
   * Durable background work of one sandbox, by job name (unique across modules). Built per
   * sandbox, so handlers close over its context; its worker only sees its own store's jobs.
   */
  jobs?(ctx: SandboxContext): Record<string, JobHandler>;
  /** Recurring jobs; defined at every start (idempotent). */
  schedules?(
    ctx: SandboxContext,
  ): Array<{ name: string; everyMs: number; job: { name: string; payload?: unknown } }>;
  /** Labelled URLs a user needs (printed by `calmhub sandbox`, listed on the handle). */
  endpoints?(baseUrl: string): Record<string, string>;
  /**
   * Files written next to the Cloud ALM service key at start (e.g. another service's key),
   * as file name -> content; they land in `<data>/sandbox/` with owner-only permissions.
   */
  files?(ctx: SandboxContext): Promise<Record<string, string>>;
  /**
   * Cloud ALM hook: a transport was released (admin API or UI), as when an ABAP system exports a
   * request. Runs inside the releasing transaction (`trx`, which also reaches the module's own
   * tables), so the release and whatever the module makes of it commit together; throwing
   * rolls the release back, so a module that cannot act should log and return.
   */
  onTransportReleased?(
    ctx: SandboxContext,
    trx: Transaction<SandboxTables>,
    transport: ReleasedTransport,
  ): Promise<void>;
  /** Adds this module's share of `--seed demo`, after the Cloud ALM demo project exists. */
  seedDemo?(ctx: SandboxContext): Promise<void>;
}
