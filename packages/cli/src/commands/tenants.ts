import { parseArgs } from 'node:util';
import { createTenant } from '@calmhub/hub';
import { UsageError } from '../usage-error.js';
import type { Command } from './command.js';
import { parseServerArgs, serverFlags, serverFlagsHelp } from './config-args.js';
import { withHubStore } from './local-store.js';

export const tenantsCommand: Command = {
  name: 'tenants',
  summary: 'add a tenant with its first admin, where the hub data lives',
  help: [
    'Usage: calmhub tenants add --name N --admin-email E [server options]',
    '',
    'Creates a tenant (its projects, users and credentials are invisible to every other tenant), its first',
    'admin, and prints an API token for that admin (shown once).',
    '',
    serverFlagsHelp,
  ].join('\n'),
  async run(args, io) {
    const flags = { ...serverFlags, name: { type: 'string' }, 'admin-email': { type: 'string' } } as const;
    let parsed: ReturnType<typeof parseArgs<{ options: typeof flags; allowPositionals: true; strict: true }>>;
    try {
      parsed = parseArgs({ args, options: flags, allowPositionals: true, strict: true });
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const { values, positionals } = parsed;
    if (positionals[0] !== 'add') throw new UsageError('usage: calmhub tenants add --name N --admin-email E');
    if (!values.name || !values['admin-email']) throw new UsageError('--name and --admin-email are required');
    const serverArgs = (['config', 'host', 'port', 'data-dir'] as const).flatMap((flag) =>
      values[flag] === undefined ? [] : [`--${flag}`, values[flag] as string],
    );
    const { config } = parseServerArgs(serverArgs);
    const created = await withHubStore(config, (deps) =>
      createTenant(deps, { name: values.name as string, adminEmail: values['admin-email'] as string }),
    );
    io.stdout.write(
      `tenant ${values.name} (${created.tenantId}), admin ${values['admin-email']}\n${created.token}\n`,
    );
    return 0;
  },
};
