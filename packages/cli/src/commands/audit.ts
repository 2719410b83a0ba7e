import { clientFlagsHelp, runClient } from '../client/client-command.js';
import { type Column, printJson, printTable } from '../client/output.js';
import { UsageError } from '../usage-error.js';
import type { Command } from './command.js';
import { findProject } from './credentials.js';

export interface AuditEntry {
  id: number;
  occurredAt: string;
  projectId: string | null;
  actor: { kind: string; id: string; label: string };
  role: string | null;
  kind: string;
  object: { kind: string; id: string; label: string | null };
  before: unknown;
  after: unknown;
  requestId: string | null;
}

const columns: Column<AuditEntry>[] = [
  ['time', (e) => e.occurredAt],
  ['actor', (e) => (e.actor.kind === 'user' ? e.actor.label : `${e.actor.kind}:${e.actor.label}`)],
  ['role', (e) => e.role],
  ['kind', (e) => e.kind],
  ['object', (e) => `${e.object.kind} ${e.object.label ?? e.object.id}`],
  ['request', (e) => e.requestId],
];

function isoFlag(value: string | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms))
    throw new UsageError(`--${flag} must be a date or date-time (ISO 8601), e.g. 2026-11-30T08:00:00Z`);
  return new Date(ms).toISOString();
}

export const auditCommand: Command = {
  name: 'audit',
  summary: 'read the audit log (tenant admins; --project for project admins and release managers)',
  help: [
    'Usage: calmhub audit [--project <id|name>] [--since <ISO>] [--until <ISO>] [--kind <kind>]...',
    '                     [--actor <id|e-mail>] [--object <id>] [--limit <n>] [--csv | --json]',
    '',
    "  --project <p>     one project's log (else the whole tenant's)",
    '  --since <ISO>     entries at or after this time',
    '  --until <ISO>     entries before this time',
    '  --kind <kind>     e.g. credential.rotated (repeat for several)',
    '  --actor <a>       a user id or e-mail, an integration id, or a system part (schedule, sync)',
    '  --object <id>     entries about one object',
    '  --limit <n>       newest n entries (default 50; not with --csv)',
    "  --csv             every matching entry as CSV, from the hub's export",
    clientFlagsHelp,
  ].join('\n'),
  run: (args, io) =>
    runClient(
      args,
      io,
      {
        project: { type: 'string' },
        since: { type: 'string' },
        until: { type: 'string' },
        kind: { type: 'string', multiple: true },
        actor: { type: 'string' },
        object: { type: 'string' },
        limit: { type: 'string' },
        csv: { type: 'boolean' },
      },
      async ({ api, values, positionals, json }) => {
        if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
        if (values.csv && json) throw new UsageError('--csv and --json exclude each other');
        if (values.csv && values.limit !== undefined) throw new UsageError('--limit does not apply to --csv');
        const limit = values.limit === undefined ? 50 : Number(values.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 500)
          throw new UsageError('--limit must be a whole number from 1 to 500');
        const query = new URLSearchParams();
        const from = isoFlag(values.since, 'since');
        const to = isoFlag(values.until, 'until');
        if (from) query.set('from', from);
        if (to) query.set('to', to);
        for (const kind of values.kind ?? []) query.append('kind', kind);
        if (values.actor) query.set('actor', values.actor);
        if (values.object) query.set('objectId', values.object);
        const base = values.project
          ? `/api/v1/projects/${(await findProject(api, values.project)).id}/audit`
          : '/api/v1/audit';
        if (values.csv) {
          const text = await api.getText(`${base}.csv${query.size ? `?${query}` : ''}`, 'text/csv');
          io.stdout.write(text);
          return 0;
        }
        query.set('limit', String(limit));
        const { items } = await api.get<{ items: AuditEntry[] }>(`${base}?${query}`);
        json ? printJson(io, items) : printTable(io, items, columns);
        return 0;
      },
    ),
};
