import { request } from 'undici';

/** An error answer of the hub's API, carrying its message (shown to the user as is). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface ApiClient {
  baseUrl: string;
  get<T = unknown>(path: string): Promise<T>;
  /** A GET whose answer is not JSON (CSV exports): the body as text. */
  getText(path: string, accept: string): Promise<string>;
  post<T = unknown>(path: string, body?: unknown): Promise<T>;
  patch<T = unknown>(path: string, body: unknown): Promise<T>;
  put<T = unknown>(path: string, body: unknown): Promise<T>;
  delete(path: string): Promise<void>;
}

/** A small client of the hub's REST API, as `gh` is of GitHub's: a token, JSON, the API's own errors. */
export function createApiClient(baseUrl: string, token: string | undefined): ApiClient {
  const base = baseUrl.replace(/\/+$/, '');
  const call = async <T>(method: string, path: string, body?: unknown, accept?: string): Promise<T> => {
    const headers: Record<string, string> = { accept: accept ?? 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Awaited<ReturnType<typeof request>>;
    try {
      response = await request(`${base}${path}`, {
        method: method as 'GET',
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      const cause =
        (error as { cause?: { code?: string } }).cause?.code ?? (error as { code?: string }).code ?? '';
      throw new ApiError(
        0,
        'unreachable',
        `cannot reach the hub at ${base} (${cause || (error as Error).message}); is it running? (--url or CALMHUB_URL)`,
      );
    }
    const text = await response.body.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (response.statusCode >= 400) {
      const error = (
        parsed as { error?: { code?: string; message?: string; requestId?: string } } | undefined
      )?.error;
      throw new ApiError(
        response.statusCode,
        error?.code ?? 'http_error',
        error?.message ?? `HTTP ${response.statusCode}: ${text.slice(0, 200)}`,
        error?.requestId,
      );
    }
    return (accept === undefined ? parsed : text) as T;
  };
  return {
    baseUrl: base,
    get: (path) => call('GET', path),
    getText: (path, accept) => call<string>('GET', path, undefined, accept),
    post: (path, body) => call('POST', path, body),
    patch: (path, body) => call('PATCH', path, body),
    put: (path, body) => call('PUT', path, body),
    delete: async (path) => {
      await call('DELETE', path);
    },
  };
}
