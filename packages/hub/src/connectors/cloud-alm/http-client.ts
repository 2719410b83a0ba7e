import { classifyFailure, redactOutboundUrl, retryAfterMs } from '@calmhub/platform';
import { type Dispatcher, request } from 'undici';
import { type AuthContext, authorizationFor } from '../auth-header.js';
import type { ResolvedCredential } from '../credential.js';
import { RemoteCallError, remoteErrorText } from '../remote-call-error.js';
import type { CalmProject, CloudAlmClient } from './client.js';

interface CalmResponse {
  status: number;
  body: string;
}

/** The Cloud ALM public APIs over HTTP, for a real tenant or the sandbox alike. */
export class HttpCloudAlmClient implements CloudAlmClient {
  private readonly apiUrl: string;

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

  /**
   * One call with a Bearer token. A 401 or 403 fetches a new token once and repeats: a token can
   * be revoked or lose a scope before it expires (clients of Cloud ALM do the same).
   */
  private async call(
    method: Dispatcher.HttpMethod,
    path: string,
    accept: number[] = [],
  ): Promise<CalmResponse> {
    const url = `${this.apiUrl}${path}`;
    let response = await this.send(method, url, await authorizationFor(this.context, this.credential));
    if (response.status === 401 || response.status === 403) {
      response = await this.send(method, url, await authorizationFor(this.context, this.credential, true));
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
  ): Promise<CalmResponse & { retryAt?: number | undefined }> {
    const started = performance.now();
    try {
      const response = await request(url, {
        method,
        headers: { authorization, accept: 'application/json' },
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
