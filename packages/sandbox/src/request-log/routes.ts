import type { HttpApp } from '@calmhub/platform';
import Type from 'typebox';
import type { RequestLog } from './request-log.js';

const Counts = Type.Object(
  {
    total: Type.Integer(),
    '1xx': Type.Optional(Type.Integer()),
    '2xx': Type.Optional(Type.Integer()),
    '3xx': Type.Optional(Type.Integer()),
    '4xx': Type.Optional(Type.Integer()),
    '5xx': Type.Optional(Type.Integer()),
    dropped: Type.Optional(Type.Integer()),
  },
  { additionalProperties: false },
);

const Snapshot = Type.Object({
  since: Type.String({ description: 'ISO time of the start or last reset' }),
  total: Type.Integer(),
  routes: Type.Record(Type.String(), Counts, {
    description: 'Keyed "<METHOD> <route pattern>", e.g. "GET /api/calm-tasks/v1/tasks/:id"',
  }),
});

const description =
  'Requires `Authorization: Bearer <admin token>`. Counts per method, route pattern and outcome ' +
  '(status class, or `dropped` when the connection went down before an answer) since the start ' +
  'or the last reset; `/admin` calls are not counted.';

/** `GET/DELETE /admin/request-log`: the calls clients made, for tests and benchmarks. */
export function registerRequestLogAdmin(scope: HttpApp, log: RequestLog): void {
  scope.get(
    '/request-log',
    {
      schema: {
        tags: ['sandbox'],
        summary: 'Calls per method and route since the last reset',
        description,
        response: { 200: Snapshot },
      },
    },
    async () => log.snapshot(),
  );
  scope.delete(
    '/request-log',
    {
      schema: {
        tags: ['sandbox'],
        summary: 'Reset the request counters; answers what they held',
        description,
        response: { 200: Snapshot },
      },
    },
    async () => log.reset(),
  );
}
