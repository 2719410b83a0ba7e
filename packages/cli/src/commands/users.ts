import { clientFlagsHelp, required, runClient } from '../client/client-command.js';
import { type Column, printJson, printTable } from '../client/output.js';
import { UsageError } from '../usage-error.js';
import type { Command } from './command.js';

interface User {
  id: string;
  email: string;
  name: string;
  tenantRole: string;
  sapUserIds: string[];
}

const columns: Column<User>[] = [
  ['id', (u) => u.id],
  ['email', (u) => u.email],
  ['name', (u) => u.name],
  ['tenant role', (u) => u.tenantRole],
  ['sap users', (u) => u.sapUserIds],
];

export const usersCommand: Command = {
  name: 'users',
  summary: "list the tenant's users, or add one (users add --email E)",
  help: [
    'Usage: calmhub users [list]',
    '       calmhub users add --email <e-mail> [--name <name>] [--admin] [--sap-user <id>]...',
    '',
    'Users carry the e-mail Cloud ALM names assignees by, and the SAP user ids transports name owners by.',
    '',
    clientFlagsHelp,
  ].join('\n'),
  run: (args, io) =>
    runClient(
      args,
      io,
      {
        email: { type: 'string' },
        name: { type: 'string' },
        admin: { type: 'boolean' },
        'sap-user': { type: 'string', multiple: true },
      },
      async ({ api, values, positionals, json }) => {
        const action = positionals[0] ?? 'list';
        if (action === 'list') {
          const { items } = await api.get<{ items: User[] }>('/api/v1/users');
          json ? printJson(io, items) : printTable(io, items, columns);
          return 0;
        }
        if (action === 'add') {
          const user = await api.post<User>('/api/v1/users', {
            email: required(values.email, 'email'),
            ...(values.name ? { name: values.name } : {}),
            ...(values.admin ? { tenantRole: 'admin' } : {}),
            ...(values['sap-user'] ? { sapUserIds: values['sap-user'] } : {}),
          });
          json ? printJson(io, user) : printTable(io, [user], columns);
          return 0;
        }
        throw new UsageError(`unknown action "${action}" (list, add)`);
      },
    ),
};
