import type { HttpApp } from '@calmhub/platform';
import { CONNECTION_DROPPED } from '../faults/hook.js';

/** How a request ended: the status class of its answer, or `dropped` when no answer reached the client. */
export type RequestOutcome = '1xx' | '2xx' | '3xx' | '4xx' | '5xx' | 'dropped';

/** Calls of one `METHOD /route/:pattern` since the last reset, by outcome. */
export type RouteCounts = { total: number } & Partial<Record<RequestOutcome, number>>;

export interface RequestLogSnapshot {
  /** ISO time of the start or last reset. */
  since: string;
  /** All counted calls. */
  total: number;
  /** Keyed `"<METHOD> <route pattern>"`, e.g. `"GET /api/calm-tasks/v1/tasks/:id"`, sorted. */
  routes: Record<string, RouteCounts>;
}

/** Route of requests that matched none (404 from the not-found handler). */
export const NO_ROUTE = '(no route)';

export function outcomeOf(status: number): RequestOutcome {
  if (status < 200) return '1xx';
  if (status < 300) return '2xx';
  if (status < 400) return '3xx';
  if (status < 500) return '4xx';
  return '5xx';
}

/**
 * In-memory counters of the calls clients made, per method, route pattern and outcome: what a
 * test or a benchmark reads to count a client's calls without trusting the client. No I/O per
 * request; `/admin` calls are not counted.
 */
export class RequestLog {
  private counts = new Map<string, RouteCounts>();
  private total = 0;
  private since: number;

  constructor(private readonly now: () => number = Date.now) {
    this.since = now();
  }

  record(method: string, route: string, outcome: RequestOutcome): void {
    const key = `${method} ${route}`;
    let counts = this.counts.get(key);
    if (!counts) {
      counts = { total: 0 };
      this.counts.set(key, counts);
    }
    counts.total++;
    counts[outcome] = (counts[outcome] ?? 0) + 1;
    this.total++;
  }

  snapshot(): RequestLogSnapshot {
    const routes: Record<string, RouteCounts> = {};
    for (const key of [...this.counts.keys()].sort())
      routes[key] = { ...(this.counts.get(key) as RouteCounts) };
    return { since: new Date(this.since).toISOString(), total: this.total, routes };
  }

  /** Clears the counters; answers what they held. */
  reset(): RequestLogSnapshot {
    const snapshot = this.snapshot();
    this.counts = new Map();
    this.total = 0;
    this.since = this.now();
    return snapshot;
  }
}

const ENTITY_NAME = /^[A-Za-z$][A-Za-z0-9_$]{0,63}$/;

/**
 * Wildcard routes (the OData services) are counted per entity set, so a client's calls to
 * `Features` and `TaskAssignments` are told apart: `GET /api/calm-features/v1/Features`, and
 * `…/Features/{key}` for an entity or anything below it. Names that do not look like an entity
 * set keep the wildcard, so odd paths cannot grow the table.
 */
export function routeKey(route: string, url: string): string {
  if (!route.endsWith('*')) return route;
  const prefix = route.slice(0, -1);
  const path = url.split('?')[0] ?? '';
  if (!path.startsWith(prefix)) return route;
  const [first = '', ...rest] = path.slice(prefix.length).split('/');
  const name = first.replace(/\(.*$/, '');
  if (!ENTITY_NAME.test(name)) return route;
  return `${prefix}${name}${first.includes('(') || rest.some((segment) => segment !== '') ? '/{key}' : ''}`;
}

const isAdmin = (url: string) => url === '/admin' || url.startsWith('/admin/') || url.startsWith('/admin?');

/**
 * Counts every request of `app` except `/admin` ones when its connection is done with it, so
 * answers from fault rules count (as their status, or `dropped` for `reset` and `lost-response`)
 * and so do requests the client abandoned. Register before the fault hooks.
 */
export function useRequestLog(app: HttpApp, log: RequestLog): void {
  app.addHook('onRequest', async (request, reply) => {
    if (isAdmin(request.url)) return;
    const method = request.method;
    const route = routeKey(request.routeOptions.url ?? NO_ROUTE, request.url);
    const raw = reply.raw;
    raw.once('close', () => {
      const dropped =
        (request.raw as unknown as Record<symbol, boolean>)[CONNECTION_DROPPED] === true ||
        !raw.writableFinished;
      log.record(method, route, dropped ? 'dropped' : outcomeOf(raw.statusCode));
    });
  });
}
