import { classifyFailure, redactOutboundUrl, retryAfterMs } from '@calmhub/platform';
import { type Dispatcher, request } from 'undici';
import { type AuthContext, authorizationFor } from '../auth-header.js';
import type { ResolvedCredential } from '../credential.js';
import { RemoteCallError, remoteErrorText } from '../remote-call-error.js';
import {
  odataInstant,
  toComment,
  toExternalReference,
  toFeature,
  toLink,
  toTask,
  toTaskRelations,
  toTransport,
} from './calm-shapes.js';
import type {
  CalmCode,
  CalmComment,
  CalmExternalReference,
  CalmFeature,
  CalmProject,
  CalmTask,
  CalmTaskAssignment,
  CalmTaskRelation,
  CalmTransport,
  CalmTransportReference,
  CloudAlmClient,
  FeatureQuery,
  LinkQuery,
  Page,
  PageCursor,
  TaskQuery,
  TransportQuery,
} from './client.js';

const FEATURES = '/calm-features/v1';
const TASKS = '/calm-tasks/v1/tasks';

/** `a in (x, y)` over GUIDs (unquoted literals, as Cloud ALM wants them). */
const guidsIn = (field: string, ids: string[]) => `${field} in (${ids.join(',')})`;

interface CalmResponse {
  status: number;
  body: string;
}

/** The Cloud ALM public APIs over HTTP, for a real tenant or the sandbox alike. */
export class HttpCloudAlmClient implements CloudAlmClient {
  private readonly apiUrl: string;
  /** API calls made (token requests not counted), for sync statistics. */
  calls = 0;

  constructor(
    private readonly context: AuthContext,
    private readonly credential: ResolvedCredential,
    apiUrl: string,
  ) {
    this.apiUrl = apiUrl.replace(/\/+$/, '');
  }

  async authenticate(): Promise<void> {
    await authorizationFor(this.context, this.credential);
  }

  async listProjects(): Promise<CalmProject[]> {
    const response = await this.call('GET', '/calm-projects/v1/projects');
    return this.parse<unknown[]>(response, Array.isArray)
      .map(toProject)
      .filter((p): p is CalmProject => p !== undefined);
  }

  async getProject(id: string): Promise<CalmProject | undefined> {
    // 403 is how a tenant answers for a project the technical client may not see.
    const response = await this.call(
      'GET',
      `/calm-projects/v1/projects/${encodeURIComponent(id)}`,
      [403, 404],
    );
    if (response.status === 403 || response.status === 404) return undefined;
    return toProject(this.parse<unknown>(response, (v) => typeof v === 'object' && v !== null));
  }

  features(query: FeatureQuery, cursor: PageCursor | null): Promise<Page<CalmFeature>> {
    const filter = [`projectId eq ${query.projectId}`];
    if (query.modifiedAfter !== undefined) filter.push(`modifiedAt gt ${odataInstant(query.modifiedAfter)}`);
    return this.odataPage(
      'Features',
      { $filter: filter.join(' and '), ...(query.idsOnly ? { $select: 'uuid,modifiedAt' } : {}) },
      query,
      cursor,
      toFeature,
    );
  }

  async tasks(query: TaskQuery, cursor: PageCursor | null): Promise<Page<CalmTask>> {
    const offset = cursor === null ? 0 : Number(cursor);
    const params = new URLSearchParams({
      projectId: query.projectId,
      type: query.type,
      offset: String(offset),
      limit: String(query.pageSize),
    });
    if (query.changedAfter !== undefined)
      params.set('lastChangedTimestamp', `gt:${new Date(query.changedAfter).toISOString()}`);
    const response = await this.call('GET', `/calm-tasks/v1/tasks?${params}`);
    const rows = this.parse<unknown[]>(response, Array.isArray);
    const items = rows.map(toTask).filter((t): t is CalmTask => t !== undefined);
    // The Tasks service has no count: a short page is the last one.
    return { items, next: rows.length < query.pageSize ? null : String(offset + rows.length) };
  }

  async taskAssignments(query: LinkQuery, cursor: PageCursor | null): Promise<Page<CalmTaskAssignment>> {
    const page = await this.odataPage('TaskAssignments', linkFilter(query), query, cursor, (v) =>
      toLink(v, 'parentUuid', 'taskId'),
    );
    return { items: page.items.map(([featureUuid, taskId]) => ({ featureUuid, taskId })), next: page.next };
  }

  async transportReferences(
    query: LinkQuery,
    cursor: PageCursor | null,
  ): Promise<Page<CalmTransportReference>> {
    // References carry no project: they are asked for by feature, or all of them.
    const params: Record<string, string> = query.featureUuids
      ? { $filter: guidsIn('parentUuid', query.featureUuids) }
      : {};
    const page = await this.odataPage('TransportReferences', params, query, cursor, (v) =>
      toLink(v, 'parentUuid', 'transportUuid'),
    );
    return {
      items: page.items.map(([featureUuid, transportUuid]) => ({ featureUuid, transportUuid })),
      next: page.next,
    };
  }

  transports(query: TransportQuery, cursor: PageCursor | null): Promise<Page<CalmTransport>> {
    const filter: string[] = [];
    if (query.modifiedAfter !== undefined) filter.push(`modifiedAt gt ${odataInstant(query.modifiedAfter)}`);
    if (query.uuids) filter.push(guidsIn('uuid', query.uuids));
    return this.odataPage(
      'Transports',
      filter.length ? { $filter: filter.join(' and ') } : {},
      query,
      cursor,
      toTransport,
    );
  }

  async codeList(name: 'FeatureStatus' | 'FeaturePriorities'): Promise<CalmCode[]> {
    const response = await this.call('GET', `${FEATURES}/${name}`);
    const body = this.parse<{ value: unknown[] }>(response, (v) =>
      Array.isArray((v as { value?: unknown })?.value),
    );
    return body.value.flatMap((entry) => {
      const { code, name: label } = (entry ?? {}) as Record<string, unknown>;
      return code === undefined || code === null
        ? []
        : [{ code: String(code), name: typeof label === 'string' ? label : String(code) }];
    });
  }

  async getFeature(uuid: string): Promise<CalmFeature | undefined> {
    const response = await this.call('GET', `${FEATURES}/Features/${encodeURIComponent(uuid)}`, [403, 404]);
    if (response.status !== 200) return undefined;
    return toFeature(this.parse<unknown>(response, (v) => typeof v === 'object' && v !== null));
  }

  async getTask(id: string): Promise<CalmTask | undefined> {
    const response = await this.call('GET', `/calm-tasks/v1/tasks/${encodeURIComponent(id)}`, [403, 404]);
    if (response.status !== 200) return undefined;
    return toTask(this.parse<unknown>(response, (v) => typeof v === 'object' && v !== null));
  }

  async listTaskRelations(taskId: string): Promise<CalmTaskRelation[]> {
    const response = await this.call('GET', `${TASKS}/${encodeURIComponent(taskId)}/relations`);
    const body = this.parse<unknown>(response, (v) => toTaskRelations(v) !== undefined);
    return toTaskRelations(body) ?? [];
  }

  async listComments(taskId: string): Promise<CalmComment[]> {
    const response = await this.call('GET', `${TASKS}/${encodeURIComponent(taskId)}/comments`);
    return this.parse<unknown[]>(response, Array.isArray)
      .map(toComment)
      .filter((c): c is CalmComment => c !== undefined);
  }

  async postComment(taskId: string, text: string): Promise<CalmComment> {
    const response = await this.call('POST', `${TASKS}/${encodeURIComponent(taskId)}/comments`, [], { text });
    const comment = toComment(this.parse<unknown>(response, (v) => typeof v === 'object' && v !== null));
    return comment ?? { id: '', taskId, text, createdAt: 0 };
  }

  async updateFeatureStatus(uuid: string, statusCode: string): Promise<void> {
    await this.call('PATCH', `${FEATURES}/Features/${encodeURIComponent(uuid)}`, [], { statusCode });
  }

  async updateFeatureDescription(uuid: string, html: string): Promise<void> {
    // 200 with the entity or 204 without a body: both mean done.
    await this.call('PATCH', `${FEATURES}/Features/${encodeURIComponent(uuid)}`, [], { description: html });
  }

  async listExternalReferences(featureUuid: string): Promise<CalmExternalReference[]> {
    const search = new URLSearchParams({ $filter: `parentUuid eq ${featureUuid}` });
    const response = await this.call('GET', `${FEATURES}/ExternalReferences?${search}`);
    const body = this.parse<{ value: unknown[] }>(response, (v) =>
      Array.isArray((v as { value?: unknown })?.value),
    );
    return body.value.map(toExternalReference).filter((r): r is CalmExternalReference => r !== undefined);
  }

  async createExternalReference(reference: CalmExternalReference): Promise<CalmExternalReference> {
    const response = await this.call('POST', `${FEATURES}/ExternalReferences`, [], {
      id: reference.id,
      parentUuid: reference.parentUuid,
      ...(reference.name === undefined ? {} : { name: reference.name }),
      ...(reference.url === undefined ? {} : { url: reference.url }),
    });
    const created = toExternalReference(
      this.parse<unknown>(response, (v) => typeof v === 'object' && v !== null),
    );
    return created ?? reference;
  }

  /**
   * One page of an OData collection. The first asks `$top`/`$skip` with `$count=true`; a server
   * `@nextLink` is followed as given; otherwise the count says whether another page exists, so a
   * collection of n items takes exactly ⌈n / page size⌉ calls.
   */
  private async odataPage<T>(
    entitySet: string,
    params: Record<string, string>,
    query: { pageSize: number },
    cursor: PageCursor | null,
    map: (value: unknown) => T | undefined,
  ): Promise<Page<T>> {
    let path: string;
    let skip = 0;
    if (cursor?.startsWith('link:')) path = cursor.slice(5);
    else {
      skip = cursor === null ? 0 : Number(cursor);
      const search = new URLSearchParams({
        ...params,
        $top: String(query.pageSize),
        $skip: String(skip),
        $count: 'true',
      });
      path = `${FEATURES}/${entitySet}?${search}`;
    }
    const response = await this.call('GET', path);
    const body = this.parse<{
      value: unknown[];
      '@nextLink'?: unknown;
      '@odata.nextLink'?: unknown;
      '@count'?: unknown;
      '@odata.count'?: unknown;
    }>(response, (v) => Array.isArray((v as { value?: unknown })?.value));
    const items = body.value.map(map).filter((item): item is T => item !== undefined);
    const nextLink = body['@nextLink'] ?? body['@odata.nextLink'];
    if (typeof nextLink === 'string' && nextLink !== '')
      return { items, next: `link:${this.relative(nextLink, entitySet)}` };
    if (cursor?.startsWith('link:')) return { items, next: null };
    const count = Number(body['@count'] ?? body['@odata.count']);
    const seen = skip + body.value.length;
    const more = Number.isFinite(count)
      ? seen < count && body.value.length > 0
      : body.value.length === query.pageSize;
    return { items, next: more ? String(seen) : null };
  }

  /** A `@nextLink` as a path under the API base (it may be absolute, root-relative or set-relative). */
  private relative(link: string, entitySet: string): string {
    const base = new URL(`${this.apiUrl}${FEATURES}/${entitySet}`);
    const url = new URL(link, base);
    const apiPath = new URL(this.apiUrl).pathname.replace(/\/+$/, '');
    return `${url.pathname.startsWith(apiPath) ? url.pathname.slice(apiPath.length) : url.pathname}${url.search}`;
  }

  /**
   * One call with a Bearer token. A 401 or 403 fetches a new token once and repeats: a token can
   * be revoked or lose a scope before it expires (clients of Cloud ALM do the same).
   */
  private async call(
    method: Dispatcher.HttpMethod,
    path: string,
    accept: number[] = [],
    body?: unknown,
  ): Promise<CalmResponse> {
    const url = `${this.apiUrl}${path}`;
    let response = await this.send(method, url, await authorizationFor(this.context, this.credential), body);
    // Safe for writes too: a 401/403 is answered before the service acts.
    if (response.status === 401 || response.status === 403) {
      response = await this.send(
        method,
        url,
        await authorizationFor(this.context, this.credential, true),
        body,
      );
    }
    if ((response.status >= 200 && response.status < 300) || accept.includes(response.status))
      return response;
    throw RemoteCallError.fromStatus(
      'cloud_alm',
      response.status,
      `Cloud ALM answered ${response.status} to ${method} ${path}: ${remoteErrorText(response.body)}`,
      response.retryAt,
    );
  }

  private async send(
    method: Dispatcher.HttpMethod,
    url: string,
    authorization: string,
    payload?: unknown,
  ): Promise<CalmResponse & { retryAt?: number | undefined }> {
    const release = await this.context.limiter?.acquire(new URL(url).host);
    this.calls++;
    const started = performance.now();
    try {
      const response = await request(url, {
        method,
        headers: {
          authorization,
          accept: 'application/json',
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(payload === undefined ? {} : { body: JSON.stringify(payload) }),
        signal: AbortSignal.timeout(this.context.timeoutMs),
        ...(this.context.dispatcher ? { dispatcher: this.context.dispatcher } : {}),
      });
      const body = await response.body.text();
      this.context.logger?.trace(
        {
          method,
          url: redactOutboundUrl(url),
          status: response.statusCode,
          ms: Math.round(performance.now() - started),
        },
        'cloud alm call',
      );
      const wait = retryAfterMs(response.headers['retry-after'], this.context.now());
      return {
        status: response.statusCode,
        body,
        retryAt: wait === undefined ? undefined : this.context.now() + wait,
      };
    } catch (error) {
      const failure = classifyFailure(error);
      throw new RemoteCallError(
        'cloud_alm',
        `Cloud ALM at ${redactOutboundUrl(url)} unreachable: ${failure.message}`,
        {
          retryable: failure.retryable,
          timedOut: failure.kind === 'timeout',
        },
      );
    } finally {
      release?.();
    }
  }

  private parse<T>(response: CalmResponse, check: (value: unknown) => boolean): T {
    try {
      const value = JSON.parse(response.body) as unknown;
      if (check(value)) return value as T;
    } catch {
      // reported below
    }
    throw new RemoteCallError('cloud_alm', 'Cloud ALM answered something that is not the documented JSON', {
      remoteStatus: response.status,
      retryable: false,
    });
  }
}

function linkFilter(query: LinkQuery): Record<string, string> {
  const parts: string[] = [];
  if (query.projectId) parts.push(`projectId eq ${query.projectId}`);
  if (query.featureUuids) parts.push(guidsIn('parentUuid', query.featureUuids));
  if (query.taskIds) parts.push(guidsIn('taskId', query.taskIds));
  return parts.length ? { $filter: parts.join(' and ') } : {};
}

function toProject(value: unknown): CalmProject | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { id, name, status } = value as Record<string, unknown>;
  if (typeof id !== 'string') return undefined;
  return {
    id,
    name: typeof name === 'string' ? name : id,
    status: typeof status === 'string' ? status : undefined,
  };
}
