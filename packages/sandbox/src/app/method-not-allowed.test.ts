import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PROJECT_ID } from '../seed/seed.js';
import { type Harness, json, startHarness } from '../test-fixtures/harness.js';
import { HTTP_METHODS, type RegisteredRoute, registeredRoutes } from './method-not-allowed.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ seed: 'demo' });
});
afterAll(() => h.stop());

/** A concrete path for a route pattern: every parameter and wildcard filled in. */
function concrete(pattern: string): string {
  return pattern
    .split('/')
    .map((segment) => (segment.startsWith(':') ? 'p1' : segment === '*' ? 'w1' : segment))
    .join('/');
}

/**
 * Whether a route pattern matches a concrete path (`:param` = one segment, possibly empty as
 * Fastify's router allows, `*` = the rest).
 */
function matches(pattern: string, path: string): boolean {
  const want = pattern.split('/');
  const got = path.split('/');
  for (let i = 0; i < want.length; i++) {
    if (want[i] === '*') return true;
    if (got[i] === undefined) return false;
    if (!want[i]?.startsWith(':') && want[i] !== got[i]) return false;
  }
  return want.length === got.length;
}

function expectedAllow(routes: readonly RegisteredRoute[], path: string): string[] {
  const methods = new Set(
    routes.filter((route) => matches(route.url, path)).flatMap((route) => route.methods),
  );
  const ordered = HTTP_METHODS.filter((method) => methods.has(method));
  return ordered.includes('GET') ? ordered.filter((method) => method !== 'HEAD') : ordered;
}

describe('405 Method Not Allowed', () => {
  it('answers POST /calm-tasks/v1/tasks/{id} with 405, an Allow header and a {message} body', async () => {
    const response = await h.call('/calm-tasks/v1/tasks/00000000-0000-4000-8000-000000000000', {
      method: 'POST',
      json: {},
    });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, PATCH, DELETE');
    expect(Object.keys(await json(response))).toEqual(['message']);
  });

  it('answers an unregistered method on every registered route with 405 and the right Allow', async () => {
    const routes = registeredRoutes(h.sandbox.context);
    expect(routes.length).toBeGreaterThan(100);
    const paths = [...new Set(routes.map((route) => concrete(route.url)))];
    const checks: { path: string; method: string; allow: string }[] = [];
    for (const path of paths) {
      const allowed = expectedAllow(routes, path);
      const present = new Set(
        routes.filter((route) => matches(route.url, path)).flatMap((route) => route.methods),
      );
      for (const method of HTTP_METHODS) {
        if (!present.has(method)) checks.push({ path, method, allow: allowed.join(', ') });
      }
    }
    expect(checks.length).toBeGreaterThan(100);
    // Every service's prefix is covered.
    for (const prefix of [
      '/api/calm-projects/v1/',
      '/api/calm-tasks/v1/',
      '/ctms/v2/',
      '/cpi/api/v1',
      '/servicenow/',
      '/jira/',
      '/sap-build/',
      '/admin/',
      '/oauth/',
    ]) {
      expect(
        checks.some((check) => check.path.startsWith(prefix)),
        prefix,
      ).toBe(true);
    }
    const failures: string[] = [];
    for (let start = 0; start < checks.length; start += 16) {
      await Promise.all(
        checks.slice(start, start + 16).map(async ({ path, method, allow }) => {
          const response = await fetch(`${h.sandbox.url}${path}`, { method });
          await response.arrayBuffer();
          if (response.status !== 405 || response.headers.get('allow') !== allow)
            failures.push(
              `${method} ${path}: ${response.status} allow=${response.headers.get('allow')} (want ${allow})`,
            );
        }),
      );
    }
    expect(failures).toEqual([]);
  });

  it('answers in the error shape of the service that owns the path', async () => {
    const shapes: [string, string, (body: Record<string, unknown>) => boolean][] = [
      ['PUT', '/api/calm-projects/v1/projects', (body) => typeof body.message === 'string'],
      [
        'PUT',
        '/api/calm-features/v1/Features',
        (body) => (body.error as { code: string }).code === 'METHOD_NOT_ALLOWED',
      ],
      [
        'PATCH',
        '/servicenow/api/now/table/incident',
        (body) =>
          body.status === 'failure' && typeof (body.error as { message: string }).message === 'string',
      ],
      ['DELETE', '/jira/rest/api/2/issue', (body) => Array.isArray(body.errorMessages)],
      [
        'DELETE',
        '/sap-build/workflow/rest/v1/workflow-instances',
        (body) => 'message' in (body.error as object),
      ],
      ['PUT', '/ctms/v2/nodes', (body) => typeof body.errorMessage === 'string'],
      ['PATCH', '/cpi/api/v1/IntegrationPackages', (body) => 'message' in (body.error as object)],
      ['PUT', '/oauth/token', (body) => body.error === 'method_not_allowed'],
      [
        'DELETE',
        '/admin/info',
        (body) => (body.error as { code: string; requestId: string }).code === 'method_not_allowed',
      ],
    ];
    for (const [method, path, check] of shapes) {
      const response = await fetch(`${h.sandbox.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${h.token}` },
      });
      expect(response.status, `${method} ${path}`).toBe(405);
      expect(response.headers.get('allow'), path).toBeTruthy();
      const body = (await response.json()) as Record<string, unknown>;
      expect(check(body), `${path}: ${JSON.stringify(body)}`).toBe(true);
    }
  });

  it('names what an OData entity set allows (collection and single entity)', async () => {
    const features = await json<{ value: { uuid: string }[] }>(
      await h.call(`/calm-features/v1/Features?projectId=${DEMO_PROJECT_ID}&$top=1`),
    );
    const uuid = features.value[0]?.uuid;
    for (const [method, path, allow] of [
      ['PUT', '/Features', 'GET, POST'],
      ['OPTIONS', '/Features', 'GET, POST'],
      ['DELETE', `/Features/${uuid}`, 'GET, PATCH'],
      ['POST', `/Features/${uuid}`, 'GET, PATCH'],
      ['PATCH', '/FeatureStatus', 'GET'],
      ['PATCH', '/URLReferences', 'GET, POST'],
      ['POST', '/$metadata', 'GET'],
    ] as const) {
      const response = await h.call(`/calm-features/v1${path}`, { method });
      expect(response.status, `${method} ${path}`).toBe(405);
      expect(response.headers.get('allow'), `${method} ${path}`).toBe(allow);
    }
    // HEAD is a GET without a body.
    expect((await h.call('/calm-features/v1/FeatureStatus', { method: 'HEAD' })).status).toBe(200);
  });

  it('still answers 404 for unknown paths', async () => {
    expect((await h.call('/calm-tasks/v1/nothing-here', { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${h.sandbox.url}/no/such/path`, { method: 'DELETE' })).status).toBe(404);
  });
});
