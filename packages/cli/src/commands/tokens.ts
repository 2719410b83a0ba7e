import { parseArgs } from 'node:util';
import { bootstrapFirstAdmin, findTenant, findUser, firstAdmin, issueToken } from '@calmhub/hub';
import { ConfigError } from '@calmhub/platform';
import { clientFlagsHelp, runClient } from '../client/client-command.js';
import { type Column, printJson, printTable } from '../client/output.js';
import { UsageError } from '../usage-error.js';
import type { Command, Io } from './command.js';
import { parseServerArgs, serverFlags, serverFlagsHelp } from './config-args.js';
import { withHubStore } from './local-store.js';

const DAY_MS = 86_400_000;

interface Token {
  id: string;
  name: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

const columns: Column<Token>[] = [
  ['id', (t) => t.id],
  ['name', (t) => t.name],
  ['expires', (t) => t.expiresAt ?? 'never'],
  ['revoked', (t) => t.revokedAt],
  ['last used', (t) => t.lastUsedAt],
];

/** `tokens create`: local, on the data directory or DATABASE_URL, as `serve` would open them. */
async function createToken(args: string[], io: Io): Promise<number> {
  const localFlags = {
    ...serverFlags,
    name: { type: 'string' },
    user: { type: 'string' },
    tenant: { type: 'string' },
    'expires-in-days': { type: 'string' },
  } as const;
  let values: ReturnType<typeof parseArgs<{ options: typeof localFlags; strict: true }>>['values'];
  try {
    ({ values } = parseArgs({ args, options: localFlags, strict: true }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (!values.name) throw new UsageError('--name is required');
  const days = values['expires-in-days'];
  if (days !== undefined && !/^[1-9]\d{0,3}$/.test(days))
    throw new UsageError('--expires-in-days must be 1 to 9999');
  const serverArgs = (['config', 'host', 'port', 'data-dir'] as const).flatMap((flag) =>
    values[flag] === undefined ? [] : [`--${flag}`, values[flag] as string],
  );
  const { config } = parseServerArgs(serverArgs);
  const token = await withHubStore(config, async (deps) => {
    await bootstrapFirstAdmin(deps, config.adminEmail);
    const tenant = await findTenant(deps, values.tenant);
    if (!tenant) throw new ConfigError(`no tenant "${values.tenant}"`);
    const user = values.user
      ? await findUser(deps, tenant.id, values.user)
      : await firstAdmin(deps, tenant.id);
    if (!user) throw new ConfigError(`no user "${values.user}" in tenant ${tenant.name}`);
    const issued = await issueToken(deps, {
      tenantId: tenant.id,
      userId: user.id,
      name: values.name as string,
      expiresAt: days === undefined ? null : Date.now() + Number(days) * DAY_MS,
    });
    return issued.token;
  });
  io.stdout.write(`${token}\n`);
  return 0;
}

export const tokensCommand: Command = {
  name: 'tokens',
  summary: 'API tokens: create one where the hub data lives, list or revoke yours',
  help: [
    'Usage: calmhub tokens create --name N [--user <id|e-mail>] [--tenant T] [--expires-in-days D] [server options]',
    '       calmhub tokens [list]',
    '       calmhub tokens revoke <token id>',
    '',
    '`create` runs where the server keeps its data (same --data-dir / DATABASE_URL as `calmhub serve`) and',
    'prints a new token for the first admin (or the named user). Store it: it is shown once. Use it with',
    '--token or CALMHUB_TOKEN.',
    '',
    serverFlagsHelp,
    clientFlagsHelp,
  ].join('\n'),
  async run(args, io) {
    if (args[0] === 'create') return createToken(args.slice(1), io);
    return runClient(args, io, {}, async ({ api, positionals, json }) => {
      const action = positionals[0] ?? 'list';
      if (action === 'list') {
        const { items } = await api.get<{ items: Token[] }>('/api/v1/tokens');
        json ? printJson(io, items) : printTable(io, items, columns);
        return 0;
      }
      if (action === 'revoke') {
        const id = positionals[1];
        if (!id) throw new UsageError('revoke needs the token id');
        const revoked = await api.delete(`/api/v1/tokens/${encodeURIComponent(id)}`);
        if (json) printJson(io, revoked);
        else io.stdout.write(`revoked ${id}\n`);
        return 0;
      }
      throw new UsageError(`unknown action "${action}" (create, list, revoke)`);
    });
  },
};
