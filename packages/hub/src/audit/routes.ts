import type { Readable } from 'node:stream';
import type { HttpApp } from '@calmhub/platform';
import Type from 'typebox';
import type { HubDeps } from '../app/deps.js';
import { AUTH_ERRORS, errors, IdParams } from '../http/schemas.js';
import { type AuditScope, exportAuditCsv, listAudit } from './list-audit.js';
import {
  AuditEntryView,
  AuditKindSchema,
  AuditPage,
  ProjectAuditCsvQuery,
  ProjectAuditQuery,
  TenantAuditCsvQuery,
  TenantAuditQuery,
} from './schemas.js';

/** The CSV is streamed: typed as the stream the handler sends, documented as a string. */
const CSV_ANSWER = Type.Unsafe<Readable>({
  type: 'string',
  description: 'text/csv with a header row, one entry a line, newest first.',
});
const FILTERS =
  'Filters: `from`/`to` (ISO 8601), `actor` (user id or e-mail, integration id or name), `objectKind`, ' +
  '`objectId`, `kind` (repeat the key). Newest first.';

/** The audit log, read-only: no route changes or deletes an entry. */
export function registerAuditRoutes(app: HttpApp, deps: HubDeps): void {
  app.addSchema(AuditKindSchema);
  app.addSchema(AuditEntryView);
  const tags = ['audit'];
  const page = { 200: AuditPage, ...errors(...AUTH_ERRORS) };
  const csv = {
    200: { description: 'The entries as CSV', content: { 'text/csv': { schema: CSV_ANSWER } } },
    ...errors(...AUTH_ERRORS),
  };
  const csvReply = (scope: AuditScope, name: string) => ({
    type: 'text/csv; charset=utf-8',
    disposition: `attachment; filename="${name}"`,
    scope,
  });

  app.get(
    '/api/v1/audit',
    {
      config: { action: 'audit.read' },
      schema: {
        tags,
        summary: "The tenant's audit log (tenant admins)",
        description: `${FILTERS} \`projectId\` narrows to one project. Page with \`before\` = the previous answer's \`nextBefore\`.`,
        querystring: TenantAuditQuery,
        response: page,
      },
    },
    async (request) => listAudit(deps, request.actor, { scope: 'tenant' }, request.query),
  );
  app.get(
    '/api/v1/audit.csv',
    {
      config: { action: 'audit.read' },
      schema: {
        tags,
        summary: "The tenant's audit log as CSV (tenant admins)",
        description: `${FILTERS} Streams every matching entry.`,
        querystring: TenantAuditCsvQuery,
        response: csv,
      },
    },
    async (request, reply) => {
      const answer = csvReply({ scope: 'tenant' }, 'audit.csv');
      const stream = await exportAuditCsv(deps, request.actor, answer.scope, request.query);
      return reply.type(answer.type).header('content-disposition', answer.disposition).send(stream);
    },
  );
  app.get(
    '/api/v1/projects/:id/audit',
    {
      config: { action: 'audit.read_project' },
      schema: {
        tags,
        summary: "A project's audit log (project admins and release managers)",
        description: FILTERS,
        params: IdParams,
        querystring: ProjectAuditQuery,
        response: page,
      },
    },
    async (request) =>
      listAudit(deps, request.actor, { scope: 'project', projectId: request.params.id }, request.query),
  );
  app.get(
    '/api/v1/projects/:id/audit.csv',
    {
      config: { action: 'audit.read_project' },
      schema: {
        tags,
        summary: "A project's audit log as CSV (project admins and release managers)",
        description: `${FILTERS} Streams every matching entry.`,
        params: IdParams,
        querystring: ProjectAuditCsvQuery,
        response: csv,
      },
    },
    async (request, reply) => {
      const answer = csvReply({ scope: 'project', projectId: request.params.id }, 'project-audit.csv');
      const stream = await exportAuditCsv(deps, request.actor, answer.scope, request.query);
      return reply.type(answer.type).header('content-disposition', answer.disposition).send(stream);
    },
  );
}
