import { readFileSync } from 'node:fs';
import type { ApiClient } from '../client/api-client.js';
import { clientFlagsHelp, pick, required, runClient } from '../client/client-command.js';
import { type Column, printFields, printJson, printTable } from '../client/output.js';
import { UsageError } from '../usage-error.js';
import type { Command } from './command.js';
import type { Project } from './projects.js';

interface Credential {
  id: string;
  name: string;
  type: string;
  system: string;
  scope: string;
  projectId: string | null;
  settings: { clientId?: string; url?: string; tokenUrl?: string; apiUrl?: string; username?: string };
  lastTest: { ok: boolean; message: string; at: string } | null;
}

interface TestResult {
  ok: boolean;
  check: string;
  message: string;
  remoteStatus?: number;
  at: string;
}

const columns: Column<Credential>[] = [
  ['id', (c) => c.id],
  ['name', (c) => c.name],
  ['type', (c) => c.type],
  ['system', (c) => c.system],
  ['scope', (c) => c.scope],
  ['client / user', (c) => c.settings.clientId ?? c.settings.username],
  ['api url', (c) => c.settings.apiUrl],
  ['last test', (c) => (c.lastTest ? (c.lastTest.ok ? 'ok' : 'FAILED') : '')],
];

export async function findProject(api: ApiClient, idOrName: string): Promise<Project> {
  return pick((await api.get<{ items: Project[] }>('/api/v1/projects')).items, idOrName, 'project');
}

export async function findCredential(api: ApiClient, idOrName: string): Promise<Credential> {
  return pick((await api.get<{ items: Credential[] }>('/api/v1/credentials')).items, idOrName, 'credential');
}

function readServiceKey(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(
      `--service-key ${file}: ${(error as NodeJS.ErrnoException).code ?? 'not valid JSON'}`,
    );
  }
}

const flags = {
  name: { type: 'string' },
  type: { type: 'string' },
  system: { type: 'string' },
  project: { type: 'string' },
  'service-key': { type: 'string' },
  'client-id': { type: 'string' },
  'client-secret': { type: 'string' },
  'auth-url': { type: 'string' },
  endpoint: { type: 'string' },
  'token-url': { type: 'string' },
  'api-url': { type: 'string' },
  scope: { type: 'string' },
  username: { type: 'string' },
  password: { type: 'string' },
} as const;

export const credentialsCommand: Command = {
  name: 'credentials',
  summary: 'the Credential Manager: list, add (Register Credential), test, rotate',
  help: [
    'Usage: calmhub credentials [list] [--project P]',
    '       calmhub credentials add --name N --service-key FILE            (Cloud ALM, CTMS or Cloud Integration service key as pasted)',
    '       calmhub credentials add --name N --client-id ID --client-secret S --auth-url URL [--api-url URL]',
    '       calmhub credentials add --name N --type oauth2_client_credentials --token-url URL --client-id ID --client-secret S',
    '       calmhub credentials add --name N --type basic --username U --password P [--endpoint URL]',
    '       calmhub credentials test <credential>',
    '       calmhub credentials rotate <credential> (--client-secret S | --password P | --service-key FILE)',
    '',
    '--auth-url is the service key URL (uaa.url; the token URL is it + /oauth/token); --api-url the API base',
    '(endpoints.Api); --endpoint the URL a Basic credential is tested against (--url names the hub).',
    'Add options: --system cloud_alm|ctms|cloud_integration|servicenow|generic, --project P (private to a project),',
    '--scope S. <credential> is an id or a name. Secrets are write-only: the hub never shows them again.',
    '',
    clientFlagsHelp,
  ].join('\n'),
  run: (args, io) =>
    runClient(args, io, flags, async ({ api, values, positionals, json }) => {
      const action = positionals[0] ?? 'list';
      const serviceKey = values['service-key'] ? readServiceKey(values['service-key']) : undefined;
      switch (action) {
        case 'list': {
          const project = values.project ? await findProject(api, values.project) : undefined;
          const { items } = await api.get<{ items: Credential[] }>(
            `/api/v1/credentials${project ? `?projectId=${project.id}` : ''}`,
          );
          json ? printJson(io, items) : printTable(io, items, columns);
          return 0;
        }
        case 'add': {
          const project = values.project ? await findProject(api, values.project) : undefined;
          const body: Record<string, unknown> = {
            name: required(values.name, 'name'),
            ...(values.type ? { type: values.type } : {}),
            ...(values.system ? { system: values.system } : {}),
            ...(project ? { projectId: project.id } : {}),
            ...(serviceKey === undefined ? {} : { serviceKey }),
          };
          const map: Array<[keyof typeof values, string]> = [
            ['client-id', 'clientId'],
            ['client-secret', 'clientSecret'],
            ['auth-url', 'url'],
            ['endpoint', 'url'],
            ['token-url', 'tokenUrl'],
            ['api-url', 'apiUrl'],
            ['scope', 'scope'],
            ['username', 'username'],
            ['password', 'password'],
          ];
          for (const [flag, field] of map) if (values[flag] !== undefined) body[field] = values[flag];
          const created = await api.post<Credential>('/api/v1/credentials', body);
          json ? printJson(io, created) : printTable(io, [created], columns);
          return 0;
        }
        case 'test': {
          const credential = await findCredential(api, required(positionals[1], 'credential (argument)'));
          const result = await api.post<TestResult>(`/api/v1/credentials/${credential.id}/test`);
          if (json) printJson(io, result);
          else
            printFields(io, [
              ['credential', credential.name],
              ['result', result.ok ? 'ok' : 'FAILED'],
              ['checked', result.check],
              ['message', result.message],
            ]);
          return result.ok ? 0 : 1;
        }
        case 'rotate': {
          const credential = await findCredential(api, required(positionals[1], 'credential (argument)'));
          const rotated = await api.post<Credential>(`/api/v1/credentials/${credential.id}/rotate`, {
            ...(values['client-secret'] ? { clientSecret: values['client-secret'] } : {}),
            ...(values.password ? { password: values.password } : {}),
            ...(serviceKey === undefined ? {} : { serviceKey }),
          });
          json ? printJson(io, rotated) : printTable(io, [rotated], columns);
          return 0;
        }
        default:
          throw new UsageError(`unknown action "${action}" (list, add, test, rotate)`);
      }
    }),
};
