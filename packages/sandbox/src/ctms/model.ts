import { readJson } from '@calmhub/platform';
import type { SandboxContext } from '../app/context.js';
import { badRequest } from '../shared/errors.js';
import type {
  CtmsActionTable,
  CtmsDb,
  CtmsNodeTable,
  CtmsRouteTable,
  CtmsTransportRequestTable,
} from './tables.js';

/** Queue statuses (reference §3a, CTMS-SKILL), lower-case as the action statuses are seen on the wire. */
export const QUEUE_STATUSES = [
  'initial',
  'running',
  'succeeded',
  'warning',
  'error',
  'fatal',
  'skipped',
  'repeatable',
  'deleted',
  'transient',
] as const;
export type QueueStatus = (typeof QUEUE_STATUSES)[number];

/**
 * Short filter codes of `?status=`. `in`, `re`, `er`, `fa` are seen in a client; the rest
 * follow the same two-letter pattern (INFERRED). Full names are accepted too.
 */
export const STATUS_CODES: Record<string, QueueStatus> = {
  in: 'initial',
  ru: 'running',
  su: 'succeeded',
  wa: 'warning',
  er: 'error',
  fa: 'fatal',
  sk: 'skipped',
  re: 'repeatable',
  de: 'deleted',
  tr: 'transient',
};

/** CONFIRMED (CTMS-SKILL): only these can be imported. */
export const IMPORTABLE: ReadonlySet<string> = new Set(['initial', 'fatal', 'repeatable']);

/** Outcomes an import can end in, by severity (the action takes the worst one). */
export const OUTCOME_RANK: Record<string, number> = { succeeded: 0, warning: 1, error: 2, fatal: 3 };

/** INFERRED: the node settings "Pre-Import", "Post-Import" and "On Demand" of the CTMS UI. */
export const FORWARD_MODES = ['PRE_IMPORT', 'POST_IMPORT', 'ON_DEMAND'] as const;

export const CTMS_SCOPES = ['ctms.read', 'ctms.export', 'ctms.import'] as const;

/** Durations the reference leaves open; adjustable through `PATCH /admin/ctms/settings`. */
export interface CtmsSettings {
  /** How long an import runs before it ends (default 3000 ms). */
  importDurationMs: number;
}

const settingsOf = new WeakMap<SandboxContext, CtmsSettings>();

export function ctmsSettings(ctx: SandboxContext): CtmsSettings {
  let settings = settingsOf.get(ctx);
  if (!settings) {
    settings = { importDurationMs: 3000 };
    settingsOf.set(ctx, settings);
  }
  return settings;
}

export function ctmsDb(ctx: SandboxContext): CtmsDb {
  return ctx.store.db.withTables<import('./tables.js').CtmsTables>();
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export interface StoredEntry {
  id: number;
  uri: string;
  fileName: string;
}

export function entriesOf(row: Pick<CtmsTransportRequestTable, 'entries'>): StoredEntry[] {
  return readJson<StoredEntry[]>(row.entries) ?? [];
}

export type NodeRow = Omit<CtmsNodeTable, 'id'> & { id: number };
export type RouteRow = Omit<CtmsRouteTable, 'id'> & { id: number };
export type TransportRequestRow = Omit<CtmsTransportRequestTable, 'id'> & { id: number };
export type ActionRow = Omit<CtmsActionTable, 'id'> & { id: number };

export function toNode(row: NodeRow) {
  return {
    id: Number(row.id),
    name: row.name,
    description: row.description,
    uploadAllowed: row.upload_allowed === 1,
    forwardMode: row.forward_mode,
    contentType: row.content_type,
    virtual: row.is_virtual === 1,
    controlledBySAPCloudALM: false,
    createdAt: iso(row.created_at),
    changedAt: iso(row.changed_at),
  };
}

export function toRoute(row: RouteRow, names: Map<number, string>) {
  return {
    id: Number(row.id),
    name: row.name,
    description: row.description,
    sourceNode: { id: Number(row.source_node_id), name: names.get(Number(row.source_node_id)) ?? '' },
    targetNode: { id: Number(row.target_node_id), name: names.get(Number(row.target_node_id)) ?? '' },
  };
}

export function toEntries(row: TransportRequestRow) {
  return entriesOf(row).map((entry) => ({
    id: entry.id,
    storageType: row.storage_type,
    contentType: row.content_type,
    uri: entry.uri,
  }));
}

export function toEntities(row: TransportRequestRow, status: string) {
  return entriesOf(row).map((entry) => ({
    id: entry.id,
    fileName: entry.fileName,
    uri: entry.uri,
    status,
  }));
}

/** Ids are 32-bit on PostgreSQL; a larger one could only fail in the database. */
export const MAX_ID = 2_147_483_647;

/** Path and query ids are positive integers; anything else is the client's 400. */
export function parseId(value: unknown, what: string): number {
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string' || !/^[1-9]\d{0,9}$/.test(text) || Number(text) > MAX_ID) {
    throw badRequest(`${what} must be a positive integer up to ${MAX_ID}`);
  }
  return Number(text);
}

/** `?status=in,re,er,fa` or full names, comma separated (several parameters are merged). */
export function parseStatusFilter(values: string[]): Set<QueueStatus> {
  const statuses = new Set<QueueStatus>();
  for (const value of values) {
    for (const raw of value.split(',')) {
      const token = raw.trim().toLowerCase();
      if (token === '') continue;
      const status =
        STATUS_CODES[token] ?? (QUEUE_STATUSES as readonly string[]).find((name) => name === token);
      if (!status) {
        throw badRequest(
          `Invalid value '${raw.trim()}' for parameter 'status'; use ${Object.keys(STATUS_CODES).join(', ')} or the status names`,
        );
      }
      statuses.add(status as QueueStatus);
    }
  }
  if (statuses.size === 0) throw badRequest("The query parameter 'status' is required");
  return statuses;
}
