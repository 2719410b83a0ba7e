import { clientFlagsHelp, pick, required, runClient } from '../client/client-command.js';
import { type Column, printFields, printJson, printTable } from '../client/output.js';
import { UsageError } from '../usage-error.js';
import type { Command } from './command.js';
import { findCredential, findProject } from './credentials.js';

interface Integration {
  id: string;
  projectId: string;
  name: string;
  hostUrl: string;
  calmProject: { id: string; name: string };
  enabled: boolean;
  webhook: { url: string; path: string; secretKey: string } | null;
}

const columns: Column<Integration>[] = [
  ['id', (i) => i.id],
  ['name', (i) => i.name],
  ['cloud alm project', (i) => `${i.calmProject.name} (${i.calmProject.id})`],
  ['host url', (i) => i.hostUrl],
  ['enabled', (i) => (i.enabled ? 'yes' : 'no')],
];

const flags = {
  project: { type: 'string' },
  name: { type: 'string' },
  description: { type: 'string' },
  credential: { type: 'string' },
  'calm-project': { type: 'string' },
  'host-url': { type: 'string' },
  disabled: { type: 'boolean' },
} as const;

export const integrationsCommand: Command = {
  name: 'integrations',
  summary: "a project's ALM integrations: list, add (link to a Cloud ALM project)",
  help: [
    'Usage: calmhub integrations [list] --project P',
    '       calmhub integrations add --project P --name N --credential C --calm-project X [--host-url URL] [--description D] [--disabled]',
    '',
    "X is the Cloud ALM project's id or name, looked up in the live list the credential's client sees;",
    "the host URL defaults to the credential's API URL. The answer shows the webhook URL to paste into Cloud ALM.",
    '',
    clientFlagsHelp,
  ].join('\n'),
  run: (args, io) =>
    runClient(args, io, flags, async ({ api, values, positionals, json }) => {
      const action = positionals[0] ?? 'list';
      const project = await findProject(api, required(values.project, 'project'));
      if (action === 'list') {
        const { items } = await api.get<{ items: Integration[] }>(
          `/api/v1/projects/${project.id}/integrations`,
        );
        json ? printJson(io, items) : printTable(io, items, columns);
        return 0;
      }
      if (action !== 'add') throw new UsageError(`unknown action "${action}" (list, add)`);
      const credential = await findCredential(api, required(values.credential, 'credential'));
      const wanted = required(values['calm-project'], 'calm-project');
      const hostQuery = values['host-url'] ? `&hostUrl=${encodeURIComponent(values['host-url'])}` : '';
      const live = await api.get<{ items: Array<{ id: string; name: string }>; note: string | null }>(
        `/api/v1/projects/${project.id}/calm-projects?credentialId=${credential.id}${hostQuery}`,
      );
      // A name must match the live list; an id may be typed even when the list is empty (the hub checks it).
      const looksLikeId = /^[0-9a-fA-F-]{36}$/.test(wanted);
      const listed = live.items.find((p) => p.id === wanted || p.name.toLowerCase() === wanted.toLowerCase());
      const calmProjectId =
        listed?.id ?? (looksLikeId ? wanted : pick(live.items, wanted, 'Cloud ALM project').id);
      const created = await api.post<Integration>(`/api/v1/projects/${project.id}/integrations`, {
        name: required(values.name, 'name'),
        credentialId: credential.id,
        calmProjectId,
        ...(values.description ? { description: values.description } : {}),
        ...(values['host-url'] ? { hostUrl: values['host-url'] } : {}),
        ...(values.disabled ? { enabled: false } : {}),
      });
      if (json) printJson(io, created);
      else
        printFields(io, [
          ['integration', `${created.name} (${created.id})`],
          ['cloud alm project', `${created.calmProject.name} (${created.calmProject.id})`],
          ['host url', created.hostUrl],
          ['webhook url', created.webhook?.url],
          ['webhook path', created.webhook?.path],
        ]);
      return 0;
    }),
};
