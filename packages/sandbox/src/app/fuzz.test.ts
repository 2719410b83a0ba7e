import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createTestStore, type TestStore } from '@calmhub/platform/testing';
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceKey } from '../auth/clients.js';
import { ALL_SCOPES, EAM_PERMISSIONS } from '../auth/scopes.js';
import { DEMO_PROJECT_ID, DEMO_SECOND_PROJECT_ID } from '../seed/seed.js';
import { type Harness, json, startHarness } from '../test-fixtures/harness.js';
import { sandboxMigrationSets } from './start-sandbox.js';

/**
 * Property-based fuzzing of every sandbox route: no request, however malformed, may be answered
 * with a 5xx (or a reset connection), and requests that cannot write may not change the data.
 *
 * What is sent. The routes come from Fastify's own registry (the `onRoute` option of
 * `startSandbox`), so routes added later are fuzzed too. Path parameters get ids found in the seeded
 * data (read from every parameterless GET route before the run), unknown GUIDs and malformed ids
 * (broken percent-escapes, NUL, `..`, `constructor`, 2,000 characters, emoji). Query strings mix the
 * APIs' own parameter names with odd values. Bodies are objects the APIs answered or templates of
 * valid creation bodies, kept whole, thinned out or with values replaced; random JSON values; broken
 * JSON, invalid UTF-8, a BOM, 300-deep nesting, 200 kB strings; forms; wrong content types. Most
 * requests carry the credential the route's service expects, the rest any other one; now and then
 * a request uses another method than the route's.
 *
 * Why the data check is sound. Writes with valid credentials legitimately change data, so the run
 * has two phases:
 * - Phase 1, "cannot write": GET and HEAD with every credential (none, broken ones, the admin
 *   token, the default client's bearer token, ServiceNow/Jira/SAP Build/CTMS/CPI credentials), and
 *   every other method only with credentials that may not write: none, broken ones, and a technical
 *   client holding only read scopes and read permissions. Before and after, every table is hashed
 *   except the job queue and migration bookkeeping, the token stores (the setup logs in) and the
 *   request log; any difference names a table that a read or a refused request changed: a bug.
 * - Phase 2, "may write": writing methods with writing credentials (admin token, default client,
 *   the module credentials). Data changes, so only "no 5xx" is asserted, and afterwards that the
 *   sandbox still serves. Left out: fault-injection routes (`/faults`: their purpose is to make the
 *   sandbox answer 5xx) and `/admin/seed` (a valid body may ask for a million rows). Routes that
 *   revoke the fuzzer's own credentials (`/admin/tokens/expire`, `/admin/clients/{id}...`) come last.
 *
 * Requests are drawn with a fixed seed (CALMHUB_FUZZ_SEED) so a failure is reproducible; every 5xx
 * is collected with its full request before the test fails. CALMHUB_FUZZ_RUNS sets the number of
 * requests (default 2,400, about 30-60 s on two cores); with it set, the counts are written to
 * packages/sandbox/fuzz-report.md. It runs on SQLite in memory, or with CALMHUB_FUZZ_ENGINE=postgres on
 * the CALMHUB_TEST_DATABASE_URL server.
 */

const RUNS = Number(process.env.CALMHUB_FUZZ_RUNS ?? 2400);
const SEED = Number(process.env.CALMHUB_FUZZ_SEED ?? 20261130);
const WRITE_REPORT = process.env.CALMHUB_FUZZ_RUNS !== undefined;
const REPORT_PATH = fileURLToPath(new URL('../../fuzz-report.md', import.meta.url));
const CONCURRENCY = 4;
/** `postgres` runs against CALMHUB_TEST_DATABASE_URL (NUL and range errors differ there); default SQLite in memory. */
const ENGINE = process.env.CALMHUB_FUZZ_ENGINE === 'postgres' ? 'postgres' : 'sqlite';

/** Tables that reads, refused logins or the passage of time legitimately change. */
const VOLATILE_TABLES = [
  /^calmhub_/, // job queue and migration bookkeeping
  /_tokens$/, // tokens issued to the fuzzer's own credentials during setup
  /request_log/, // every request is logged
  /^sqlite_/,
];

interface Route {
  method: string;
  url: string;
}

type Body = { kind: 'none' } | { kind: 'raw'; contentType: string | undefined; data: string | Uint8Array };

interface FuzzRequest {
  route: Route;
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  body: Body;
  auth: string;
}

// ---------------------------------------------------------------------------------------------
// Generators

const WEIRD_IDS = [
  '',
  '0',
  '-1',
  '99999999999999999999',
  '1e400',
  '00000000-0000-0000-0000-000000000000',
  'FFFFFFFF-FFFF-4FFF-8FFF-FFFFFFFFFFFF',
  '%00',
  '%zz',
  '%E0%A4%A',
  '%C3%28',
  '..',
  '%2e%2e%2f..',
  "'",
  "'or'1'='1",
  '(',
  ')',
  "(id='x',parentUuid=1)",
  '$count',
  '$metadata',
  '💥',
  'ä',
  '\u202e',
  'a'.repeat(2000),
  'null',
  'undefined',
  '__proto__',
  'constructor',
  'incident',
  'change_request',
  'sys_journal_field',
  'CALM-1',
  'CALM-999999',
  'INC0000001',
  'builtin-event-situation-to-servicenow-incident',
];

const QUERY_KEYS = [
  '$filter',
  '$top',
  '$skip',
  '$select',
  '$orderby',
  '$expand',
  '$count',
  '$search',
  '$skiptoken',
  '$format',
  'projectId',
  'limit',
  'offset',
  'type',
  'status',
  'subStatus',
  'id',
  'lastChangedDate',
  'lastChangedTimestamp',
  'tags',
  'after',
  'latest',
  'resourceType',
  'eventType',
  'resourceId',
  'sysparm_query',
  'sysparm_limit',
  'sysparm_offset',
  'sysparm_fields',
  'sysparm_display_value',
  'sysparm_exclude_reference_link',
  'sysparm_no_count',
  'grant_type',
  'client_id',
  'client_secret',
  'response_type',
  'definitionId',
  'environmentId',
  'state',
  'outcome',
  'from',
  'to',
  'before',
  'itemId',
  'subscriptionId',
  'deliveryId',
  'nodeId',
  'Id',
  'Version',
  'x',
];

const QUERY_VALUES = [
  '',
  '0',
  '1',
  '-1',
  '1.5',
  '1e3',
  '99999999999999999999',
  'true',
  'false',
  'null',
  DEMO_PROJECT_ID,
  `'${DEMO_PROJECT_ID}'`,
  `projectId eq ${DEMO_PROJECT_ID}`,
  "title eq 'x'",
  'statusCode in (',
  "contains(title,'a')",
  '((((((((',
  'priorityCode eq 99999999999999999999',
  'modifiedAt gt 2026-13-45T99:99:99Z',
  'gt:2026-01-01',
  'eq:',
  'lt:2026-01-01T00:00:00+01:00',
  'state=1^ORDERBYnumber',
  'short_descriptionLIKEx^ORstate!=7',
  'numberIN',
  'client_credentials',
  'password',
  'refresh_token',
  '%00',
  '%zz',
  '💥',
  'toURLReferences,toExternalReferences',
  'title desc,displayId',
  'a'.repeat(3000),
];

const FIELD_NAMES = [
  'projectId',
  'title',
  'type',
  'status',
  'subStatus',
  'statusCode',
  'priorityCode',
  'priorityId',
  'description',
  'name',
  'text',
  'url',
  'parentId',
  'parentUuid',
  'timeboxId',
  'assigneeId',
  'storyPoints',
  'dueDate',
  'tags',
  'scopes',
  'projectIds',
  'clientId',
  'Name',
  'URL',
  'Authentication',
  'ProxyType',
  'User',
  'Password',
  'URL.headers.X-Key',
  'subject',
  'rating',
  'content',
  'resourceType',
  'webhookId',
  'mappingId',
  'destinationName',
  'path',
  'itemType',
  'subscriptionId',
  'workflowType',
  'itemId',
  'short_description',
  'state',
  'impact',
  'urgency',
  'close_code',
  'close_notes',
  'work_notes',
  'caller_id',
  'fields',
  'summary',
  'issuetype',
  'project',
  'definitionId',
  'context',
  'outputs',
  'pageSize',
  'features',
  'stories',
  'demo',
  'kind',
  'rate',
  'limit',
  'taskId',
  'transportUuid',
  'action',
  'text',
  'toURLReferences',
  'toExternalReferences',
  '__proto__',
  'constructor',
  '',
];

/** Ids found in the seeded data, filled in beforeAll. */
const knownIds: string[] = [];

/**
 * Objects the APIs answered, by the URL they came from. Bodies for a route are often one of its
 * collection's objects with a few fields dropped or replaced: such near-valid bodies get past the
 * first checks and reach the code behind them, which random shapes rarely do.
 */
const examples = new Map<string, Record<string, unknown>[]>();

function harvest(url: string, text: string): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return;
  }
  const list = Array.isArray(parsed)
    ? parsed
    : parsed && typeof parsed === 'object'
      ? (((parsed as Record<string, unknown>).value ??
          (parsed as Record<string, unknown>).result ?? [parsed]) as unknown[])
      : [];
  const objects = (Array.isArray(list) ? list : [list])
    .filter(
      (item): item is Record<string, unknown> => !!item && typeof item === 'object' && !Array.isArray(item),
    )
    .slice(0, 5);
  if (objects.length > 0) examples.set(url, [...(examples.get(url) ?? []), ...objects]);
}

/** Valid creation bodies for the main collections, so that phase 2 also creates things. */
const TEMPLATES: Record<string, Record<string, unknown>[]> = {
  '/api/calm-projects/v1/projects': [{ name: 'Fuzz project' }],
  '/api/calm-tasks/v1/tasks': [
    { projectId: DEMO_PROJECT_ID, title: 'Fuzz task', type: 'CALMTASK' },
    { projectId: DEMO_PROJECT_ID, title: 'Fuzz story', type: 'CALMUS', storyPoints: 3 },
    { projectId: DEMO_PROJECT_ID, title: 'Fuzz requirement', type: 'CALMREQU' },
  ],
  '/api/calm-tasks/v1/workstreams': [{ name: 'Fuzz workstream' }],
  '/api/calm-features/v1/Features': [{ projectId: DEMO_PROJECT_ID, title: 'Fuzz feature', priorityCode: 20 }],
  '/admin/clients': [{ name: 'fuzz client', scopes: ['tasks.read'], projectIds: [DEMO_SECOND_PROJECT_ID] }],
  '/admin/transports': [{ name: 'S4DK900001', description: 'fuzz' }],
  '/admin/eam/destinations': [
    {
      Name: 'FUZZ',
      URL: 'http://127.0.0.1:9/fuzz',
      Authentication: 'NoAuthentication',
      'URL.headers.X-K': 'v',
    },
    {
      Name: 'FUZZB',
      URL: 'http://127.0.0.1:9/b',
      Authentication: 'BasicAuthentication',
      User: 'u',
      Password: 'p',
    },
  ],
  '/admin/eam/webhooks': [{ name: 'fuzz hook', destinationName: 'FUZZ', path: '/hook' }],
  '/admin/eam/mappings': [
    {
      name: 'fuzz mapping',
      content: {
        eventTypeMapping: {
          operationMappings: [
            { eventType: 'TASK.CREATED', operation: 'POST', path: '/x', requestBody: { t: '#{title}' } },
          ],
        },
      },
    },
  ],
  '/admin/eam/subscriptions': [{ name: 'fuzz sub', type: 'EXTERNAL', resourceType: 'TASK' }],
  '/admin/situations': [{ subject: 'Fuzz situation', rating: 'ERROR' }],
  '/admin/workflows': [{ workflowType: 'FEATURE_APPROVAL' }],
  '/servicenow/api/now/table/:table': [{ short_description: 'fuzz', urgency: '2', impact: 1 }],
  '/servicenow/api/now/table/:table/:sysId': [{ state: '6', close_code: 'Solved', close_notes: 'n' }],
  '/jira/rest/api/2/issue': [
    { fields: { project: { key: 'CALM' }, summary: 'fuzz', issuetype: { name: 'Task' } } },
  ],
  '/sap-build/workflow/rest/v1/workflow-instances': [{ definitionId: 'fuzz.def', context: { a: 1 } }],
  '/sap-build/workflow/rest/v1/workflow-instances/:id': [{ status: 'CANCELED' }],
};

/** The examples for a route: its template, its own URL's answers, else the collection's above it. */
function examplesFor(url: string): Record<string, unknown>[] {
  const template = TEMPLATES[url];
  if (template) return [...template, ...(examples.get(url) ?? [])];
  for (
    let current = url;
    current.length > 0;
    current = current.slice(0, Math.max(0, current.lastIndexOf('/')))
  ) {
    const found = examples.get(current);
    if (found) return found;
  }
  return [];
}

function mutatedExampleArb(url: string): fc.Arbitrary<Body> {
  return fc
    .record({
      index: fc.nat(),
      // A third of them exactly as answered or templated.
      pristine: fc.oneof(
        { weight: 2, arbitrary: fc.constant(false) },
        { weight: 1, arbitrary: fc.constant(true) },
      ),
      // Which fields of the example to keep: often a few (creation bodies take fewer fields than
      // the answers show), sometimes all of them.
      keep: fc.oneof(fc.constant(null), fc.array(fc.boolean(), { minLength: 16, maxLength: 16 })),
      drop: fc.array(fc.nat(), { maxLength: 3 }),
      // Half of them unchanged apart from the kept fields, the rest with a value or two replaced.
      replace: fc.oneof(
        fc.constant([]),
        fc.array(fc.tuple(fc.nat(), valueArb), { minLength: 1, maxLength: 2 }),
      ),
      add: fc.oneof(
        { weight: 3, arbitrary: fc.constant(null) },
        { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...FIELD_NAMES), valueArb) },
      ),
      // One string of an otherwise valid body made hard to store or to handle.
      poison: fc.oneof(
        { weight: 4, arbitrary: fc.constant(null) },
        {
          weight: 1,
          arbitrary: fc.tuple(
            fc.nat(),
            fc.constantFrom('a\u0000b', '\ud800', 'x\udc00', 'x'.repeat(70_000), '💥\u202e', ' ', ''),
          ),
        },
      ),
    })
    .map(({ index, pristine, keep, drop, replace, add, poison }) => {
      const candidates = examplesFor(url);
      const whole = candidates[index % Math.max(1, candidates.length)] ?? {};
      if (poison) {
        const strings = Object.keys(whole).filter((key) => typeof whole[key] === 'string');
        const key = strings[poison[0] % Math.max(1, strings.length)];
        const poisoned = key === undefined ? whole : { ...whole, [key]: poison[1] };
        return { kind: 'raw', contentType: 'application/json', data: JSON.stringify(poisoned) };
      }
      if (pristine) return { kind: 'raw', contentType: 'application/json', data: JSON.stringify(whole) };
      const example = Object.fromEntries(
        Object.entries(whole).filter((_, i) => keep === null || keep[i % keep.length]),
      );
      const keys = Object.keys(example);
      if (keys.length > 0) {
        for (const i of drop) delete example[keys[i % keys.length] as string];
        for (const [i, value] of replace) example[keys[i % keys.length] as string] = value;
      }
      if (add) example[add[0]] = add[1];
      return { kind: 'raw', contentType: 'application/json', data: JSON.stringify(example) };
    });
}

const leafArb = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
  fc.constantFrom(...WEIRD_IDS, ...QUERY_VALUES.slice(0, 25)),
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -1, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, 30, 5, 1.5),
  fc.boolean(),
  fc.constant(null),
  fc.constant('\u0000'),
  fc.constant('\ud800'),
  fc.constant(() => knownIds[0] ?? DEMO_PROJECT_ID).map((f) => f()),
);

const valueArb: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leafArb,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom(...FIELD_NAMES), tie('value'), { maxKeys: 4 }),
  ),
})).value;

const objectBodyArb = fc.dictionary(fc.constantFrom(...FIELD_NAMES), valueArb, { maxKeys: 8 });

function idArb(): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...WEIRD_IDS).map(encodeSegment) },
    {
      weight: 4,
      arbitrary: fc.nat().map((i) => (knownIds.length ? knownIds[i % knownIds.length] : 'x') as string),
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 12 }).map(encodeURIComponent) },
    { weight: 1, arbitrary: fc.uuid() },
  );
}

/** Weird ids are sent raw when they are already (broken) escapes, else encoded. */
function encodeSegment(id: string): string {
  return /%/.test(id) ? id : encodeURIComponent(id);
}

const queryArb = fc
  .array(
    fc.tuple(
      fc.constantFrom(...QUERY_KEYS),
      fc.oneof(
        fc.constantFrom(...QUERY_VALUES),
        fc.string({ maxLength: 15 }),
        fc.nat().map((i) => (knownIds.length ? knownIds[i % knownIds.length] : '') as string),
      ),
      fc.boolean(),
    ),
    { maxLength: 4 },
  )
  .map((pairs) =>
    pairs
      .map(([key, value, raw]) =>
        raw && /%/.test(value)
          ? `${encodeURIComponent(key)}=${value}`
          : `${encodeURIComponent(key)}=${encodeURIComponent(value)}`,
      )
      .join('&'),
  );

const deep = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;

const bodyArb: fc.Arbitrary<Body> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<Body>({ kind: 'none' }) },
  {
    weight: 6,
    arbitrary: objectBodyArb.map<Body>((value) => ({
      kind: 'raw',
      contentType: 'application/json',
      data: JSON.stringify(value),
    })),
  },
  {
    weight: 2,
    arbitrary: valueArb.map<Body>((value) => ({
      kind: 'raw',
      contentType: 'application/json',
      data: JSON.stringify(value) ?? 'null',
    })),
  },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom(
        '{',
        '{"a":}',
        '[1,2',
        '"unterminated',
        '{"title":1e400}',
        '{"priorityCode":99999999999999999999999}',
        '{"a":"\\ud800"}',
        '{"__proto__":{"polluted":true}}',
        '{"constructor":{"prototype":{"x":1}}}',
        ' ',
        '',
        'null',
        'true',
        '123',
        deep(300),
        `[${'['.repeat(5000)}`,
        `{"t":"${'x'.repeat(200_000)}"}`,
      )
      .map<Body>((data) => ({ kind: 'raw', contentType: 'application/json', data })),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(
        Uint8Array.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
        Uint8Array.from([0xc3, 0x28]),
        Uint8Array.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]),
      )
      .map<Body>((data) => ({ kind: 'raw', contentType: 'application/json', data })),
  },
  {
    weight: 2,
    arbitrary: fc
      .array(fc.tuple(fc.constantFrom(...FIELD_NAMES, ...QUERY_KEYS), fc.constantFrom(...QUERY_VALUES)), {
        maxLength: 5,
      })
      .map<Body>((pairs) => ({
        kind: 'raw',
        contentType: 'application/x-www-form-urlencoded',
        data: pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&'),
      })),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom(
          'text/plain',
          'application/xml',
          'multipart/form-data; boundary=x',
          'application/octet-stream',
          'application/merge-patch+json',
          'application/json; charset=latin1',
          'application/json-patch+json',
          'application/zip',
          'application/x-www-form-urlencoded',
          'bogus',
          ';;;',
        ),
        fc.oneof(
          fc.string({ maxLength: 40 }),
          objectBodyArb.map((value) => JSON.stringify(value)),
        ),
      )
      .map<Body>(([contentType, data]) => ({ kind: 'raw', contentType, data })),
  },
);

function fillPath(url: string): fc.Arbitrary<string> {
  const parts = url.split('/');
  return fc
    .tuple(...parts.map((part) => (part.startsWith(':') || part === '*' ? idArb() : fc.constant(part))))
    .map((filled) => filled.join('/'));
}

const OTHER_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'MERGE'];

// ---------------------------------------------------------------------------------------------
// The run

interface Tally {
  requests: number;
  byClass: Record<string, number>;
  byRoute: Map<string, Record<string, number>>;
  failures: { request: FuzzRequest; status: number; body: string }[];
}

function newTally(): Tally {
  return { requests: 0, byClass: {}, byRoute: new Map(), failures: [] };
}

describe('fuzzing every sandbox route', () => {
  let h: Harness;
  let testStore: TestStore | undefined;
  const routes: Route[] = [];
  const readers: Record<string, string> = {};
  const writers: Record<string, string> = {};
  const tally = newTally();

  beforeAll(async () => {
    if (ENGINE === 'postgres') testStore = await createTestStore('postgres', sandboxMigrationSets);
    h = await startHarness({
      ...(testStore ? { store: testStore.store } : {}),
      seed: 'demo',
      logLevel: 'silent',
      onRoute: (route) => {
        for (const method of [route.method].flat()) routes.push({ method, url: route.url });
      },
    });
    const base = h.sandbox.url;
    const basic = (user: string, password: string) =>
      `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

    const readScopes = [
      ...ALL_SCOPES.filter((scope) => scope.endsWith('.read')),
      ...EAM_PERMISSIONS.filter((scope) => !scope.endsWith('.write')),
    ];
    const reader = await h.client({ name: 'fuzz reader', scopes: readScopes });
    readers['read-only client'] = `Bearer ${reader.token}`;
    writers.admin = `Bearer ${h.adminToken}`;
    writers['default client'] = `Bearer ${h.token}`;

    const snow = await json<{ user: { userName: string; password: string } }>(
      await h.admin('/servicenow/credentials'),
    );
    writers.servicenow = basic(snow.user.userName, snow.user.password);
    const jira = await json<{ email: string; apiToken: string }>(await h.admin('/jira/credentials'));
    writers.jira = basic(jira.email, jira.apiToken);
    const build = await json<{ tokenUrl: string; clientId: string; clientSecret: string }>(
      await h.admin('/sap-build/credentials'),
    );
    const buildToken = await fetch(build.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: build.clientId,
        client_secret: build.clientSecret,
      }).toString(),
    });
    writers['sap-build'] = `Bearer ${(await json<{ access_token: string }>(buildToken)).access_token}`;
    // CTMS keys have XSUAA's `uaa` block, Cloud Integration keys an `oauth` block.
    for (const module of ['ctms', 'cpi']) {
      const response = await h.admin(`/${module}/service-key`);
      if (response.status !== 200) continue;
      const key = await json<{ uaa?: ServiceKey['uaa']; oauth?: { clientid: string; clientsecret: string } }>(
        response,
      );
      const clientId = key.uaa?.clientid ?? key.oauth?.clientid ?? '';
      const secret = key.uaa?.clientsecret ?? key.oauth?.clientsecret ?? '';
      const token = await fetch(`${base}/oauth/token`, {
        method: 'POST',
        headers: {
          authorization: basic(clientId, secret),
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: 'grant_type=client_credentials',
      });
      if (token.status === 200)
        writers[module] = `Bearer ${(await json<{ access_token: string }>(token)).access_token}`;
    }

    // Ids the seed created, found by reading every parameterless GET route.
    const ids = new Set<string>([DEMO_PROJECT_ID, DEMO_SECOND_PROJECT_ID]);
    const idPattern =
      /\b([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32}|CALM-\d+|INC\d{7}|CHG\d{7}|builtin-[a-z-]+)\b/gi;
    for (const route of routes) {
      if (route.method !== 'GET' || route.url.includes(':') || route.url.includes('*')) continue;
      for (const auth of Object.values(writers)) {
        const response = await fetch(`${base}${route.url}?projectId=${DEMO_PROJECT_ID}`, {
          headers: { authorization: auth },
        });
        const text = await response.text();
        if (response.status !== 200) continue;
        for (const match of text.matchAll(idPattern)) ids.add(match[1] as string);
        harvest(route.url, text);
      }
    }
    knownIds.push(...[...ids].slice(0, 400));
  }, 120_000);

  afterAll(async () => {
    await h?.stop();
    await testStore?.cleanup();
  });

  /** A digest of every table holding data, and the tables themselves, to name the one that changed. */
  async function digest(): Promise<Map<string, string>> {
    const db = h.sandbox.context.store.db;
    const tables =
      ENGINE === 'postgres'
        ? await sql<{ name: string }>`select table_name as name from information_schema.tables
            where table_schema = current_schema() and table_type = 'BASE TABLE' order by 1`.execute(db)
        : await sql<{
            name: string;
          }>`select name from sqlite_master where type = 'table' order by name`.execute(db);
    const result = new Map<string, string>();
    for (const { name } of tables.rows) {
      if (VOLATILE_TABLES.some((pattern) => pattern.test(name))) continue;
      const rows = await sql<Record<string, unknown>>`select * from ${sql.table(name)}`.execute(db);
      const lines = rows.rows.map((row) => JSON.stringify(row)).sort();
      result.set(name, createHash('sha256').update(lines.join('\n')).digest('hex'));
    }
    return result;
  }

  /** Routes that revoke the fuzzer's own credentials: sent last, so they do not end the others' coverage. */
  const REVOKING = /^\/admin\/tokens\/expire|^\/admin\/clients\/:/;

  function requestArb(phase: 'read' | 'write' | 'revoke'): fc.Arbitrary<FuzzRequest> {
    const broken: Record<string, string> = {
      none: '',
      'bearer garbage': 'Bearer abc.def.ghi',
      'bearer empty': 'Bearer',
      'basic garbage': 'Basic %%%',
      'basic bad escape': `Basic ${Buffer.from('a%zz:%E0').toString('base64')}`,
      'basic no colon': `Basic ${Buffer.from('nocolon').toString('base64')}`,
      'long header': `Bearer ${'x'.repeat(6000)}`,
    };
    const safeAuth = { ...broken, ...readers };
    const allAuth = { ...safeAuth, ...writers };
    const writing = routes.filter(
      (route) => !['GET', 'HEAD'].includes(route.method) && !/\/faults|\/admin\/seed/.test(route.url),
    );
    const usable =
      phase === 'read'
        ? routes
        : phase === 'revoke'
          ? writing.filter((route) => REVOKING.test(route.url))
          : writing.filter((route) => !REVOKING.test(route.url));
    return fc
      .record({
        route: fc.constantFrom(...usable),
        // Mostly the route's own method; now and then another one (404/405 handling).
        otherMethod: fc.oneof(
          { weight: 6, arbitrary: fc.constant(null) },
          { weight: 1, arbitrary: fc.constantFrom(...OTHER_METHODS) },
        ),
        query: fc.oneof({ weight: 2, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: queryArb }),
        body: fc.boolean(),
        randomBody: bodyArb,
        // Most requests carry the credential the route's service expects, so they get past
        // authentication and reach the code behind it; the rest carry any other one.
        matchingAuth: fc.oneof(
          { weight: phase === 'write' ? 3 : 1, arbitrary: fc.constant(true) },
          { weight: 1, arbitrary: fc.constant(false) },
        ),
        authName: fc.constantFrom(...Object.keys(phase === 'read' ? allAuth : writers)),
        safeAuthName: fc.constantFrom(...Object.keys(safeAuth)),
        accept: fc.constantFrom('application/json', '*/*', 'text/html', 'application/xml', ''),
      })
      .chain((drawn) =>
        fc.tuple(fillPath(drawn.route.url), mutatedExampleArb(drawn.route.url)).map(([path, example]) => {
          const method = drawn.otherMethod ?? drawn.route.method;
          const reads = method === 'GET' || method === 'HEAD';
          // Phase 1 writes only with credentials that cannot write.
          const matching = drawn.matchingAuth
            ? credentialFor(drawn.route.url, phase === 'read' && !reads)
            : undefined;
          const authName = matching ?? (phase === 'read' && !reads ? drawn.safeAuthName : drawn.authName);
          const auth = allAuth[authName] ?? '';
          return {
            route: drawn.route,
            method,
            path,
            query: drawn.query ?? '',
            headers: {
              ...(auth ? { authorization: auth } : {}),
              ...(drawn.accept ? { accept: drawn.accept } : {}),
            },
            body: reads ? { kind: 'none' } : drawn.body ? example : drawn.randomBody,
            auth: authName,
          } satisfies FuzzRequest;
        }),
      );
  }

  /** The credential a route's service takes; with `safe`, one that cannot write (or none). */
  function credentialFor(url: string, safe: boolean): string | undefined {
    if (url.startsWith('/api/calm-') || url.startsWith('/admin/eam') || url.startsWith('/admin/projects'))
      return safe ? 'read-only client' : url.startsWith('/api/') ? 'default client' : 'admin';
    if (safe) return undefined;
    for (const prefix of ['servicenow', 'jira', 'sap-build', 'ctms', 'cpi'])
      if (url.startsWith(`/${prefix}/`) && writers[prefix]) return prefix;
    if (url.startsWith('/admin') || url.startsWith('/ui')) return 'admin';
    return undefined;
  }

  async function send(request: FuzzRequest): Promise<void> {
    const url = `${h.sandbox.url}${request.path}${request.query ? `?${request.query}` : ''}`;
    const headers = { ...request.headers };
    let body: string | Uint8Array | undefined;
    if (request.body.kind === 'raw') {
      if (request.body.contentType) headers['content-type'] = request.body.contentType;
      body = request.body.data;
    }
    let status: number;
    let text = '';
    try {
      const response = await fetch(url, { method: request.method, headers, body, redirect: 'manual' });
      status = response.status;
      text = await response.text();
    } catch (error) {
      // A reset connection is as bad as a 5xx (unless a fault rule asked for it, and none exists).
      status = 599;
      text = String((error as Error).cause ?? error);
    }
    const statusClass = `${Math.floor(status / 100)}xx`;
    tally.requests++;
    tally.byClass[statusClass] = (tally.byClass[statusClass] ?? 0) + 1;
    // Requests sent with another method than the route's are counted apart.
    const key =
      request.method === request.route.method
        ? `${request.route.method} ${request.route.url}`
        : "(another method than the route's)";
    const perRoute = tally.byRoute.get(key) ?? {};
    perRoute[statusClass] = (perRoute[statusClass] ?? 0) + 1;
    tally.byRoute.set(key, perRoute);
    if (status >= 500) tally.failures.push({ request, status, body: text.slice(0, 500) });
  }

  async function run(requests: FuzzRequest[]): Promise<void> {
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < requests.length) {
          const request = requests[next++] as FuzzRequest;
          await send(request);
        }
      }),
    );
  }

  function describeFailures(): string {
    return tally.failures
      .slice(0, 20)
      .map(
        ({ request, status, body }) =>
          `${status} ${request.method} ${request.path}${request.query ? `?${request.query}` : ''} [auth: ${request.auth}] ` +
          `${request.body.kind === 'raw' ? `${request.body.contentType} ${String(typeof request.body.data === 'string' ? request.body.data.slice(0, 200) : Buffer.from(request.body.data).toString('hex'))}` : ''}\n  -> ${body}`,
      )
      .join('\n');
  }

  it('phase 1: requests that cannot write get no 5xx and leave the data unchanged', async () => {
    expect(routes.length).toBeGreaterThan(100);
    const before = await digest();
    const requests = fc.sample(requestArb('read'), { numRuns: Math.ceil(RUNS * 0.6), seed: SEED });
    await run(requests);
    const after = await digest();
    const changed = [...before.keys()].filter((table) => before.get(table) !== after.get(table));
    const added = [...after.keys()].filter((table) => !before.has(table));
    expect(tally.failures, describeFailures()).toEqual([]);
    expect({ changed, added }).toEqual({ changed: [], added: [] });
  }, 600_000);

  it('phase 2: writes with valid credentials and random bodies get no 5xx', async () => {
    const count = Math.floor(RUNS * 0.4);
    await run(fc.sample(requestArb('write'), { numRuns: count - Math.ceil(count / 40), seed: SEED + 1 }));
    await run(fc.sample(requestArb('revoke'), { numRuns: Math.ceil(count / 40), seed: SEED + 2 }));
    expect(tally.failures, describeFailures()).toEqual([]);
    // The sandbox still serves the demo tenant afterwards.
    expect((await h.call(`/calm-projects/v1/projects/${DEMO_PROJECT_ID}`)).status).toBeLessThan(500);
    expect((await fetch(`${h.sandbox.url}/healthz`)).status).toBe(200);
  }, 600_000);

  afterAll(() => {
    if (!WRITE_REPORT) return;
    // Every registered route gets a row, also one no request happened to draw.
    for (const route of routes) {
      const key = `${route.method} ${route.url}`;
      if (!tally.byRoute.has(key)) tally.byRoute.set(key, {});
    }
    const hit = routes.filter((route) => {
      const counts = tally.byRoute.get(`${route.method} ${route.url}`) ?? {};
      return Object.values(counts).some((n) => n > 0);
    }).length;
    const routesSorted = [...tally.byRoute.entries()].sort(([a], [b]) => a.localeCompare(b));
    const classes = ['2xx', '3xx', '4xx', '5xx'];
    const lines = [
      '# Sandbox fuzz report',
      '',
      'Written by `packages/sandbox/src/app/fuzz.test.ts` when run with `CALMHUB_FUZZ_RUNS` set:',
      '',
      '```sh',
      `CALMHUB_FUZZ_RUNS=${RUNS} CALMHUB_FUZZ_SEED=${SEED} npx vitest run packages/sandbox/src/app/fuzz.test.ts`,
      '```',
      '',
      `- Date: ${new Date().toISOString()}; store: ${ENGINE === 'postgres' ? 'PostgreSQL' : 'SQLite in memory'}`,
      `- Routes in Fastify's registry: ${routes.length}; routes hit with their own method: ${hit}`,
      `- Requests: ${tally.requests} (phase 1, cannot write: ${Math.ceil(RUNS * 0.6)}; phase 2, may write: ${Math.floor(RUNS * 0.4)})`,
      `- By status class: ${[...classes, '5xx']
        .filter((c, i, all) => all.indexOf(c) === i)
        .map((c) => `${c} ${tally.byClass[c] ?? 0}`)
        .join(', ')}`,
      `- 5xx: ${tally.failures.length}`,
      '- Phase 1 also checks that a digest of every data table is unchanged afterwards; phase 2 leaves out',
      '  the fault-injection routes and `/admin/seed`, and sends the credential-revoking routes last.',
      '',
      'The design (what is sent, and why the data check after phase 1 is sound) is described at the top',
      'of the test. Requests per route (the route as registered; path parameters are filled with seeded',
      'ids, unknown ids and malformed ones):',
      '',
      '| Route | 2xx | 3xx | 4xx | 5xx |',
      '| --- | ---: | ---: | ---: | ---: |',
      ...routesSorted.map(
        ([route, counts]) =>
          `| \`${route.replaceAll('|', '\\|')}\` | ${classes.map((c) => counts[c] ?? 0).join(' | ')} |`,
      ),
      '',
    ];
    writeFileSync(REPORT_PATH, lines.join('\n'));
  });
});
