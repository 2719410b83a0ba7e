import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Io } from '../commands/command.js';
import { UsageError } from '../usage-error.js';
import { type ApiClient, ApiError, createApiClient } from './api-client.js';

export const DEFAULT_HUB_URL = 'http://127.0.0.1:4000';

type FlagSpec = Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>;

export const clientFlags = {
  url: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
} as const satisfies FlagSpec;

export const clientFlagsHelp = [
  `  --url <url>       the hub (CALMHUB_URL; default ${DEFAULT_HUB_URL})`,
  '  --token <token>   API token (CALMHUB_TOKEN; default: ./data/admin-token when present)',
  '  --json            print JSON instead of a table',
].join('\n');

export interface ClientContext<V> {
  api: ApiClient;
  values: V;
  positionals: string[];
  json: boolean;
  io: Io;
}

/** The token: --token, CALMHUB_TOKEN, or the first admin's token file a local hub wrote. */
function resolveToken(flag: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (flag) return flag;
  if (env.CALMHUB_TOKEN) return env.CALMHUB_TOKEN;
  const file = join(env.CALMHUB_DATA_DIR || './data', 'admin-token');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
}

/**
 * Parses a client command's flags, builds the API client and runs `body`; API errors print the
 * API's own message and exit 1.
 */
export async function runClient<F extends FlagSpec>(
  args: string[],
  io: Io,
  flags: F,
  body: (
    context: ClientContext<ReturnType<typeof parseArgs<{ options: F & typeof clientFlags }>>['values']>,
  ) => Promise<number>,
): Promise<number> {
  let parsed: ReturnType<
    typeof parseArgs<{ options: F & typeof clientFlags; allowPositionals: true; strict: true }>
  >;
  try {
    parsed = parseArgs({ args, options: { ...flags, ...clientFlags }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const values = parsed.values as Record<string, unknown>;
  const env = process.env;
  const api = createApiClient(
    (values.url as string | undefined) || env.CALMHUB_URL || DEFAULT_HUB_URL,
    resolveToken(values.token as string | undefined, env),
  );
  try {
    return await body({
      api,
      values: parsed.values as never,
      positionals: parsed.positionals,
      json: values.json === true,
      io,
    });
  } catch (error) {
    if (error instanceof ApiError) {
      io.stderr.write(`error: ${error.message}${error.requestId ? ` (request ${error.requestId})` : ''}\n`);
      return 1;
    }
    throw error;
  }
}

/** Finds an object by id or by name (exact, then case-insensitive); a clear error otherwise. */
export function pick<T extends { id: string; name: string }>(items: T[], idOrName: string, kind: string): T {
  const exact = items.find((item) => item.id === idOrName || item.name === idOrName);
  if (exact) return exact;
  const loose = items.filter((item) => item.name.toLowerCase() === idOrName.toLowerCase());
  if (loose.length === 1) return loose[0] as T;
  throw new ApiError(
    404,
    'not_found',
    `no ${kind} "${idOrName}" (${items.length ? `known: ${items.map((i) => i.name).join(', ')}` : 'none yet'})`,
  );
}

export function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw new UsageError(`--${flag} is required`);
  return value;
}
