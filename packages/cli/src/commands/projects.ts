import { clientFlagsHelp, required, runClient } from '../client/client-command.js';
import { type Column, printJson, printTable } from '../client/output.js';
import { UsageError } from '../usage-error.js';
import type { Command } from './command.js';

export interface Project {
  id: string;
  name: string;
  description: string;
  role: string;
}

const columns: Column<Project>[] = [
  ['id', (p) => p.id],
  ['name', (p) => p.name],
  ['your role', (p) => p.role],
  ['description', (p) => p.description],
];

export const projectsCommand: Command = {
  name: 'projects',
  summary: 'list hub projects, or add one (projects add --name N)',
  help: [
    'Usage: calmhub projects [list]',
    '       calmhub projects add --name <name> [--description <text>]',
    '',
    clientFlagsHelp,
  ].join('\n'),
  run: (args, io) =>
    runClient(
      args,
      io,
      { name: { type: 'string' }, description: { type: 'string' } },
      async ({ api, values, positionals, json }) => {
        const action = positionals[0] ?? 'list';
        if (action === 'list') {
          const { items } = await api.get<{ items: Project[] }>('/api/v1/projects');
          json ? printJson(io, items) : printTable(io, items, columns);
          return 0;
        }
        if (action === 'add') {
          const project = await api.post<Project>('/api/v1/projects', {
            name: required(values.name, 'name'),
            ...(values.description ? { description: values.description } : {}),
          });
          json ? printJson(io, project) : printTable(io, [project], columns);
          return 0;
        }
        throw new UsageError(`unknown action "${action}" (list, add)`);
      },
    ),
};
