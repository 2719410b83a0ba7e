import type { ApiClient } from '../client/api-client.js';
import { clientFlagsHelp, pick, required, runClient } from '../client/client-command.js';
import { type Column, printFields, printJson, printTable } from '../client/output.js';
import { UsageError } from '../usage-error.js';
import type { Command } from './command.js';
import { findProject } from './credentials.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An integration by id, or by name within --project. */
export async function findIntegrationId(
  api: ApiClient,
  idOrName: string,
  project: string | undefined,
): Promise<string> {
  if (UUID.test(idOrName)) return idOrName;
  if (!project) throw new UsageError('name the integration by id, or give --project P to find it by name');
  const { id } = await findProject(api, project);
  return pick(
    (await api.get<{ items: Array<{ id: string; name: string }> }>(`/api/v1/projects/${id}/integrations`))
      .items,
    idOrName,
    'integration',
  ).id;
}

interface Checklist {
  webhookUrl: string;
  status: { state: string; lastEventAt: string | null; selfTestAt: string | null };
  steps: Array<{
    step: string;
    what: string;
    value: string | null;
    proven: boolean;
    provenBy: string | null;
  }>;
}

export const webhookUrlCommand: Command = {
  name: 'webhook-url',
  summary: "an integration's webhook URL and the setup checklist for BTP and Cloud ALM",
  help: [
    'Usage: calmhub webhook-url <integration> [--project P] [--self-test] [--json]',
    '',
    "Prints the webhook URL (and the path for Cloud ALM's webhook Path field), then the setup steps:",
    "BTP destination, webhook, subscription (Feature, External), the project's Subscriptions tab, and",
    'which of them are proven. --self-test first makes the hub call its own URL with the key.',
    '',
    clientFlagsHelp,
  ].join('\n'),
  run: (args, io) =>
    runClient(
      args,
      io,
      { project: { type: 'string' }, 'self-test': { type: 'boolean' } },
      async ({ api, values, positionals, json }) => {
        const id = await findIntegrationId(
          api,
          required(positionals[0], 'integration (argument)'),
          values.project,
        );
        const test = values['self-test']
          ? await api.post<{ ok: boolean; message: string }>(`/api/v1/integrations/${id}/webhook/self-test`)
          : undefined;
        const checklist = await api.get<Checklist>(`/api/v1/integrations/${id}/webhook/checklist`);
        if (json) {
          printJson(io, { ...checklist, ...(test ? { selfTest: test } : {}) });
          return test && !test.ok ? 1 : 0;
        }
        printFields(io, [
          ['webhook url', checklist.webhookUrl],
          [
            'state',
            checklist.status.state === 'receiving'
              ? `receiving (last event ${checklist.status.lastEventAt})`
              : 'waiting for the first real event',
          ],
          ...(test
            ? ([['self-test', `${test.ok ? 'ok' : 'FAILED'}: ${test.message}`]] as Array<[string, unknown]>)
            : []),
        ]);
        io.stdout.write('\n');
        checklist.steps.forEach((step, index) => {
          io.stdout.write(`${index + 1}. [${step.proven ? 'x' : ' '}] ${step.what}\n`);
          if (step.value) io.stdout.write(`       ${step.value}\n`);
          if (step.provenBy) io.stdout.write(`       proven: ${step.provenBy}\n`);
        });
        return test && !test.ok ? 1 : 0;
      },
    ),
};

interface Delivery {
  id: string;
  receivedAt: string;
  state: string;
  reason: string | null;
  eventType: string | null;
  resourceId: string | null;
  duplicates: number;
}

const columns: Column<Delivery>[] = [
  ['received', (d) => d.receivedAt],
  ['state', (d) => d.state],
  ['event', (d) => d.eventType],
  ['resource', (d) => d.resourceId],
  ['dup', (d) => d.duplicates],
  ['reason', (d) => d.reason],
  ['id', (d) => d.id],
];

export const inboxCommand: Command = {
  name: 'inbox',
  summary: "an integration's webhook inbox: what Cloud ALM sent and what became of it",
  help: [
    'Usage: calmhub inbox <integration> [--project P] [--state received|processed|ignored|failed] [--limit N]',
    '       calmhub inbox replay <delivery id>',
    '',
    clientFlagsHelp,
  ].join('\n'),
  run: (args, io) =>
    runClient(
      args,
      io,
      { project: { type: 'string' }, state: { type: 'string' }, limit: { type: 'string' } },
      async ({ api, values, positionals, json }) => {
        if (positionals[0] === 'replay') {
          const delivery = await api.post<Delivery>(
            `/api/v1/inbox/${encodeURIComponent(required(positionals[1], 'delivery id (argument)'))}/replay`,
          );
          json ? printJson(io, delivery) : printTable(io, [delivery], columns);
          return 0;
        }
        const id = await findIntegrationId(
          api,
          required(positionals[0], 'integration (argument)'),
          values.project,
        );
        const query = new URLSearchParams();
        if (values.state) query.set('state', values.state);
        if (values.limit) query.set('limit', values.limit);
        const { items } = await api.get<{ items: Delivery[] }>(
          `/api/v1/integrations/${id}/inbox${query.size ? `?${query}` : ''}`,
        );
        json ? printJson(io, items) : printTable(io, items, columns);
        return 0;
      },
    ),
};
