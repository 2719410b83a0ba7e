import { type Sandbox, type SandboxOptions, startSandbox } from '../app/start-sandbox.js';
import type { ServiceKey } from '../auth/clients.js';

export interface Harness {
  sandbox: Sandbox;
  /** `<base>/api` */
  api: string;
  adminToken: string;
  /** A token of the default client (every scope). */
  token: string;
  /** Fetch against `<base>/api<path>` with the default token unless `token` is given ('' = none). */
  call(path: string, init?: RequestInit & { token?: string; json?: unknown }): Promise<Response>;
  /** Fetch against `<base>/admin<path>` with the admin token. */
  admin(path: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
  tokenFor(key: ServiceKey): Promise<string>;
  /** Creates a technical client through the admin API and returns its service key and a token. */
  client(input: {
    name?: string;
    scopes?: string[];
    projectIds?: string[] | null;
  }): Promise<{ key: ServiceKey; token: string }>;
  stop(): Promise<void>;
}

export async function tokenFor(key: ServiceKey): Promise<string> {
  const response = await fetch(`${key.uaa.url}/oauth/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${key.uaa.clientid}:${key.uaa.clientsecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  });
  if (response.status !== 200)
    throw new Error(`token request failed: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { access_token: string }).access_token;
}

function withJson(init: RequestInit & { json?: unknown }, headers: Record<string, string>): RequestInit {
  const { json, ...rest } = init;
  const merged: Record<string, string> = {
    accept: 'application/json',
    ...headers,
    ...(rest.headers as Record<string, string> | undefined),
  };
  if (json !== undefined) merged['content-type'] = 'application/json';
  return { ...rest, headers: merged, ...(json !== undefined ? { body: JSON.stringify(json) } : {}) };
}

export async function startHarness(options: SandboxOptions = {}): Promise<Harness> {
  const sandbox = await startSandbox({ port: 0, memory: true, logLevel: 'silent', ...options });
  const token = await tokenFor(sandbox.serviceKey);
  const harness: Harness = {
    sandbox,
    api: sandbox.apiUrl,
    adminToken: sandbox.adminToken,
    token,
    call(path, init = {}) {
      const { token: explicit, ...rest } = init;
      const bearer = explicit ?? token;
      return fetch(
        `${sandbox.apiUrl}${path}`,
        withJson(rest, bearer ? { authorization: `Bearer ${bearer}` } : {}),
      );
    },
    admin(path, init = {}) {
      return fetch(
        `${sandbox.url}/admin${path}`,
        withJson(init, { authorization: `Bearer ${sandbox.adminToken}` }),
      );
    },
    tokenFor,
    async client(input) {
      const response = await harness.admin('/clients', {
        method: 'POST',
        json: { name: input.name ?? 'test client', ...input },
      });
      if (response.status !== 201)
        throw new Error(`client creation failed: ${response.status} ${await response.text()}`);
      const key = (await response.json()) as ServiceKey;
      return { key, token: await tokenFor(key) };
    },
    stop: () => sandbox.stop(),
  };
  return harness;
}

export async function json<T = Record<string, unknown>>(response: Response): Promise<T> {
  return (await response.json()) as T;
}
