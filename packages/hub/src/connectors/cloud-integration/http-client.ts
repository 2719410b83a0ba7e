import { AppError } from '@calmhub/platform';
import type { Dispatcher } from 'undici';
import { type AuthContext, authorizationFor, type OutboundResponse, sendOutbound } from '../auth-header.js';
import type { ResolvedCredential } from '../credential.js';
import { RemoteCallError, remoteErrorText } from '../remote-call-error.js';
import type {
  BuildAndDeployStatus,
  CloudIntegrationClient,
  DesigntimeArtifact,
  RuntimeArtifact,
} from './client.js';

/** The API base of a Cloud Integration tenant: the given URL, ending in `/api/v1`. */
export function cloudIntegrationApiBase(url: string): string {
  const base = url.replace(/\/+$/, '');
  return base.endsWith('/api/v1') ? base : `${base}/api/v1`;
}

/** An OData v2 string literal in a key predicate or query: quotes doubled, then percent-encoded. */
export function odataKey(value: string): string {
  return encodeURIComponent(`'${value.replaceAll("'", "''")}'`);
}

type Json = Record<string, unknown>;

interface CsrfSession {
  token: string;
  cookie: string | undefined;
}

interface CallOptions {
  /** Statuses answered to the caller instead of thrown (e.g. 404 for "absent"). */
  accept?: number[];
  body?: unknown;
  accepts?: string;
}

const WRITES = new Set<string>(['POST', 'PUT', 'PATCH', 'DELETE', 'MERGE']);

/**
 * SAP Cloud Integration's OData v2 API over HTTP (reference §3b): a real tenant or the sandbox.
 * With Basic authentication a CSRF token and its session cookies are fetched before the first
 * write; with any authentication a 403 that says `x-csrf-token: Required` fetches one and repeats
 * the call once. A 401 with OAuth fetches a new token once.
 */
export class HttpCloudIntegrationClient implements CloudIntegrationClient {
  private readonly base: string;
  private csrf: Promise<CsrfSession> | undefined;
  /** API calls made (token requests not counted). */
  calls = 0;

  constructor(
    private readonly context: AuthContext,
    private readonly credential: ResolvedCredential,
    apiUrl: string | undefined = credential.settings.apiUrl,
  ) {
    if (!apiUrl)
      throw new AppError(
        'unprocessable',
        `Credential ${credential.id} has no API URL (the Cloud Integration tenant URL ending in /api/v1)`,
      );
    this.base = cloudIntegrationApiBase(apiUrl);
  }

  /** Packages of the tenant (`$top` limits the answer); used to prove a credential. */
  async listPackages(top?: number): Promise<Array<{ id: string; name: string }>> {
    const query = top === undefined ? '' : `?$top=${Math.max(1, Math.floor(top))}`;
    const response = await this.call('GET', `/IntegrationPackages${query}`);
    return results(this.entity(response, 'GET /IntegrationPackages')).map((p) => ({
      id: String(p.Id ?? ''),
      name: String(p.Name ?? p.Id ?? ''),
    }));
  }

  async getArtifact(id: string, version = 'active'): Promise<DesigntimeArtifact | undefined> {
    const path = artifactPath(id, version);
    const response = await this.call('GET', path, { accept: [404] });
    if (response.status === 404) return undefined;
    const d = this.entity(response, `GET ${path}`);
    return {
      id: String(d.Id ?? id),
      version: String(d.Version ?? version),
      name: String(d.Name ?? ''),
      packageId: typeof d.PackageId === 'string' ? d.PackageId : undefined,
    };
  }

  async downloadArtifact(id: string, version = 'active'): Promise<Buffer> {
    const response = await this.call('GET', `${artifactPath(id, version)}/$value`, {
      accepts: 'application/zip',
    });
    return response.body;
  }

  async createArtifact(input: {
    id: string;
    name: string;
    packageId: string;
    content: Buffer;
  }): Promise<void> {
    await this.call('POST', '/IntegrationDesigntimeArtifacts', {
      body: {
        Name: input.name,
        Id: input.id,
        PackageId: input.packageId,
        ArtifactContent: input.content.toString('base64'),
      },
    });
  }

  async updateArtifact(input: { id: string; name: string; content: Buffer }): Promise<void> {
    await this.call('PUT', artifactPath(input.id, 'active'), {
      body: { Name: input.name, ArtifactContent: input.content.toString('base64') },
    });
  }

  async deploy(id: string): Promise<string> {
    const response = await this.call(
      'POST',
      `/DeployIntegrationDesigntimeArtifact?Id=${odataKey(id)}&Version=${odataKey('active')}`,
      { accepts: 'text/plain, application/json' },
    );
    // The body is the task id as text; tolerate it quoted as a JSON string.
    const text = response.body.toString('utf8').trim();
    const taskId = /^"[^"]*"$/.test(text) ? (JSON.parse(text) as string) : text;
    if (taskId === '')
      throw new RemoteCallError(
        'cloud_integration',
        `Cloud Integration answered the deployment of ${id} without a task id`,
        {
          remoteStatus: response.status,
          retryable: false,
        },
      );
    return taskId;
  }

  async buildAndDeployStatus(taskId: string): Promise<BuildAndDeployStatus> {
    const path = `/BuildAndDeployStatus(TaskId=${odataKey(taskId)})`;
    const d = this.entity(await this.call('GET', path), `GET ${path}`);
    if (typeof d.Status !== 'string')
      throw new RemoteCallError('cloud_integration', `Cloud Integration answered ${path} without a Status`, {
        retryable: false,
      });
    return d.Status;
  }

  async runtimeArtifact(id: string): Promise<RuntimeArtifact | undefined> {
    const path = `/IntegrationRuntimeArtifacts(${odataKey(id)})`;
    const response = await this.call('GET', path, { accept: [404] });
    if (response.status === 404) return undefined;
    const d = this.entity(response, `GET ${path}`);
    return {
      id: String(d.Id ?? id),
      version: String(d.Version ?? ''),
      name: typeof d.Name === 'string' ? d.Name : undefined,
      status: String(d.Status ?? 'UNKNOWN'),
      deployedBy: typeof d.DeployedBy === 'string' ? d.DeployedBy : undefined,
      deployedOn: odataInstant(d.DeployedOn),
    };
  }

  async runtimeError(id: string): Promise<string | undefined> {
    const response = await this.call(
      'GET',
      `/IntegrationRuntimeArtifacts(${odataKey(id)})/ErrorInformation/$value`,
      {
        accept: [404],
        accepts: 'text/plain, application/json',
      },
    );
    if (response.status === 404) return undefined;
    const text = response.body.toString('utf8').trim();
    return text === '' ? undefined : text;
  }

  async ensurePackage(input: { id: string; name: string }): Promise<void> {
    const path = `/IntegrationPackages(${odataKey(input.id)})`;
    const found = await this.call('GET', path, { accept: [404] });
    if (found.status !== 404) return;
    // 409: created meanwhile by someone else, which is what we wanted.
    await this.call('POST', '/IntegrationPackages', {
      accept: [409],
      body: { Id: input.id, Name: input.name, ShortText: input.name },
    });
  }

  /** `d` of an OData v2 answer. */
  private entity(response: OutboundResponse, what: string): Json {
    try {
      const value = JSON.parse(response.body.toString('utf8')) as { d?: unknown };
      if (typeof value.d === 'object' && value.d !== null) return value.d as Json;
    } catch {
      // reported below
    }
    throw new RemoteCallError(
      'cloud_integration',
      `Cloud Integration answered ${what} with something that is not OData v2 JSON`,
      { remoteStatus: response.status, retryable: false },
    );
  }

  private async call(
    method: Dispatcher.HttpMethod,
    path: string,
    options: CallOptions = {},
  ): Promise<OutboundResponse> {
    const basic = this.credential.type === 'basic';
    const write = WRITES.has(method);
    let session = write && basic ? await this.csrfSession() : undefined;
    let response = await this.send(method, path, options, session, false);
    if (response.status === 401 && !basic) response = await this.send(method, path, options, session, true);
    if (response.status === 403 && csrfRequired(response)) {
      session = await this.csrfSession(true);
      response = await this.send(method, path, options, session, false);
    }
    if ((response.status >= 200 && response.status < 300) || options.accept?.includes(response.status))
      return response;
    throw RemoteCallError.fromStatus(
      'cloud_integration',
      response.status,
      `Cloud Integration answered ${response.status} to ${method} ${path.split('?')[0]}: ${cpiErrorText(response.body)}`,
      response.retryAt,
    );
  }

  private async send(
    method: Dispatcher.HttpMethod,
    path: string,
    options: CallOptions,
    session: CsrfSession | undefined,
    freshToken: boolean,
  ): Promise<OutboundResponse> {
    this.calls++;
    const headers: Record<string, string> = {
      authorization: await authorizationFor(this.context, this.credential, freshToken),
      accept: options.accepts ?? 'application/json',
    };
    if (session) {
      headers['x-csrf-token'] = session.token;
      if (session.cookie) headers.cookie = session.cookie;
    }
    let body: string | undefined;
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    return sendOutbound(this.context, 'cloud_integration', 'Cloud Integration', {
      method,
      url: `${this.base}${path}`,
      headers,
      body,
    });
  }

  /** The CSRF token and session cookies, fetched once per client (again when `renew`). */
  private csrfSession(renew = false): Promise<CsrfSession> {
    if (!this.csrf || renew) {
      const fetching = this.fetchCsrf();
      this.csrf = fetching;
      // A failed fetch is not kept: the next write tries again.
      fetching.catch(() => {
        if (this.csrf === fetching) this.csrf = undefined;
      });
    }
    return this.csrf;
  }

  private async fetchCsrf(): Promise<CsrfSession> {
    const path = '/IntegrationPackages?$top=1';
    const send = async (fresh: boolean) => {
      this.calls++;
      return sendOutbound(this.context, 'cloud_integration', 'Cloud Integration', {
        method: 'GET',
        url: `${this.base}${path}`,
        headers: {
          authorization: await authorizationFor(this.context, this.credential, fresh),
          accept: 'application/json',
          'x-csrf-token': 'Fetch',
        },
      });
    };
    let response = await send(false);
    if (response.status === 401 && this.credential.type !== 'basic') response = await send(true);
    const token = header(response, 'x-csrf-token');
    if (response.status >= 300 || !token || token.toLowerCase() === 'required')
      throw RemoteCallError.fromStatus(
        'cloud_integration',
        response.status >= 300 ? response.status : 502,
        response.status >= 300
          ? `Cloud Integration answered ${response.status} to the CSRF token fetch: ${cpiErrorText(response.body)}`
          : 'Cloud Integration answered the CSRF token fetch without a token',
        response.retryAt,
      );
    return { token, cookie: cookiesOf(response) };
  }
}

function artifactPath(id: string, version: string): string {
  return `/IntegrationDesigntimeArtifacts(Id=${odataKey(id)},Version=${odataKey(version)})`;
}

function header(response: OutboundResponse, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function csrfRequired(response: OutboundResponse): boolean {
  return header(response, 'x-csrf-token')?.toLowerCase() === 'required';
}

/** `name=value` of every `Set-Cookie`, as one `Cookie` header. */
function cookiesOf(response: OutboundResponse): string | undefined {
  const raw = response.headers['set-cookie'];
  const values = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  const pairs = values
    .map((cookie) => cookie.split(';')[0]?.trim() ?? '')
    .filter((pair) => pair.includes('='));
  return pairs.length > 0 ? pairs.join('; ') : undefined;
}

function results(d: Json): Json[] {
  const list = d.results;
  return Array.isArray(list)
    ? list.filter((v): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v))
    : [];
}

/** OData v2 `/Date(ms)/` as ISO-8601; other strings as given. */
function odataInstant(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const match = /^\/Date\((-?\d+)(?:[+-]\d+)?\)\/$/.exec(value);
  return match ? new Date(Number(match[1])).toISOString() : value;
}

/** OData v2 error text: `{error:{message:{value}}}`, else the usual shapes (plain text included). */
export function cpiErrorText(body: Buffer): string {
  const text = body.toString('utf8');
  try {
    const parsed = JSON.parse(text) as { error?: { message?: unknown } };
    const message = parsed.error?.message;
    if (typeof message === 'object' && message !== null) {
      const value = (message as { value?: unknown }).value;
      if (typeof value === 'string') return value;
    }
  } catch {
    // not JSON
  }
  return remoteErrorText(text);
}
