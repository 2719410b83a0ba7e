import type { HttpApp } from '@calmhub/platform';
import '../shared/fastify-schema.js';
import { type FaultRuleInput, validateFaultRule } from '../faults/fault-injector.js';
import { asBody, rejectUnknown, str } from '../shared/body.js';
import { badRequest, CalmError, notFound } from '../shared/errors.js';
import {
  createOAuthClient,
  createUser,
  ensureDefaultCredentials,
  listOAuthClients,
  listUsers,
} from './auth.js';
import { SnError } from './errors.js';
import { type Actor, getRecord, renderRecord, tableDef, updateRecord } from './records.js';
import { instanceUrl, type SnRuntime } from './runtime.js';

const doc = (summary: string) => ({
  schema: { tags: ['servicenow'], summary, description: 'Requires `Authorization: Bearer <admin token>`.' },
});

/** The instance's administrator, as the fulfiller who works on tickets in the UI. */
const ADMIN: Actor = { userName: 'admin', userSysId: '6816f79cc0a8016401c5a33be04be441' };

/** UI actions of an agent on a ticket, as Table API field changes. */
const ACTIONS: Record<string, Record<string, Record<string, string>>> = {
  incident: {
    start: { state: '2' },
    hold: { state: '3', hold_reason: '1' },
    resolve: { state: '6' },
    close: { state: '7' },
    cancel: { state: '8' },
    reopen: { state: '2' },
  },
  change_request: {
    assess: { state: '-4' },
    authorize: { state: '-3' },
    schedule: { state: '-2' },
    implement: { state: '-1' },
    review: { state: '0' },
    close: { state: '3' },
    cancel: { state: '4' },
  },
};

function snToCalm(error: unknown): never {
  if (error instanceof SnError)
    throw new CalmError(error.status, `${error.message}${error.detail ? `: ${error.detail}` : ''}`);
  throw error;
}

function faultInput(raw: unknown): FaultRuleInput {
  const body = asBody(raw, 'fault rule');
  const input = body as unknown as FaultRuleInput;
  const problem = validateFaultRule(input);
  if (problem) throw badRequest(problem);
  return input;
}

export async function registerServiceNowAdmin(scope: HttpApp, runtime: SnRuntime): Promise<void> {
  const { ctx, db } = runtime;
  scope.get(
    '/servicenow/credentials',
    doc('Instance URL and the default integration user and OAuth client'),
    async () => {
      const credentials = await ensureDefaultCredentials(ctx, db);
      return {
        instanceUrl: instanceUrl(ctx),
        tokenUrl: `${instanceUrl(ctx)}/oauth_token.do`,
        ...credentials,
      };
    },
  );
  scope.get('/servicenow/users', doc('ServiceNow users (passwords omitted)'), async () => listUsers(db));
  scope.post(
    '/servicenow/users',
    doc('Create a user ({userName, name?, password?}); answers the password once'),
    async (request, reply) => {
      const body = asBody(request.body);
      rejectUnknown(body, ['userName', 'name', 'password']);
      const userName = str(body, 'userName', { required: true, max: 100 }) as string;
      try {
        return reply.status(201).send(
          await createUser(ctx, db, {
            userName,
            name: str(body, 'name', { max: 200 }) ?? undefined,
            password: str(body, 'password', { max: 200 }) ?? undefined,
          }),
        );
      } catch (error) {
        snToCalm(error);
      }
    },
  );
  scope.get('/servicenow/oauth-clients', doc('OAuth clients (secrets omitted)'), async () =>
    listOAuthClients(db),
  );
  scope.post(
    '/servicenow/oauth-clients',
    doc('Create an OAuth client ({name, userName}); answers the secret once'),
    async (request, reply) => {
      const body = asBody(request.body);
      rejectUnknown(body, ['name', 'userName']);
      try {
        return reply.status(201).send(
          await createOAuthClient(ctx, db, {
            name: str(body, 'name', { required: true, max: 200 }) as string,
            userName: str(body, 'userName', { required: true, max: 100 }) as string,
          }),
        );
      } catch (error) {
        snToCalm(error);
      }
    },
  );

  type RecordParams = { Params: { table: string; sysId: string; action: string } };
  scope.post<RecordParams>(
    '/servicenow/tables/:table/:sysId/actions/:action',
    doc(
      'Agent action on a ticket: incident start/hold/resolve/close/cancel/reopen, change_request assess/authorize/schedule/implement/review/close/cancel. Body: {assignedTo?, closeCode?, closeNotes?, workNotes?}',
    ),
    async (request) => {
      const { table, sysId, action } = request.params;
      // Own keys only: `constructor` and friends are no table or action.
      const actions = Object.hasOwn(ACTIONS, table) ? ACTIONS[table] : undefined;
      const changes = actions && Object.hasOwn(actions, action) ? actions[action] : undefined;
      if (!changes) throw notFound(`No action ${action} for table ${table}`);
      const body = request.body === undefined || request.body === null ? {} : asBody(request.body);
      rejectUnknown(body, ['assignedTo', 'closeCode', 'closeNotes', 'workNotes']);
      try {
        tableDef(table);
        const current = await getRecord(db, table, sysId);
        const closing = ['resolve', 'close'].includes(action);
        const input: Record<string, unknown> = {
          ...changes,
          ...(body.assignedTo !== undefined
            ? { assigned_to: str(body, 'assignedTo', { max: 200 }) ?? '' }
            : {}),
          ...(body.workNotes !== undefined
            ? { work_notes: str(body, 'workNotes', { max: 20_000 }) ?? '' }
            : {}),
          ...(closing
            ? {
                close_code:
                  str(body, 'closeCode', { max: 200 }) ??
                  (current.close_code || (table === 'incident' ? 'Solved (Permanently)' : 'successful')),
                close_notes:
                  str(body, 'closeNotes', { max: 20_000 }) ??
                  (current.close_notes || `${action} by the ServiceNow emulator admin`),
              }
            : {}),
        };
        const record = await updateRecord(db, table, sysId, input, ADMIN, ctx.now());
        return renderRecord(db, table, record, {
          baseUrl: instanceUrl(ctx),
          displayValue: 'false',
          excludeReferenceLink: false,
        });
      } catch (error) {
        snToCalm(error);
      }
    },
  );

  scope.get(
    '/servicenow/faults',
    doc('Fault rules of the ServiceNow emulator (paths relative to /servicenow)'),
    async () => ({
      rules: runtime.faults.list(),
    }),
  );
  scope.post('/servicenow/faults', doc('Add a fault rule'), async (request, reply) =>
    reply.status(201).send(runtime.faults.add(faultInput(request.body))),
  );
  scope.put('/servicenow/faults', doc('Replace all fault rules'), async (request) => {
    if (!Array.isArray(request.body)) throw badRequest('The body must be an array of fault rules');
    return { rules: runtime.faults.replace(request.body.map(faultInput)) };
  });
  scope.delete('/servicenow/faults', doc('Remove every fault rule'), async (_request, reply) => {
    runtime.faults.clear();
    return reply.status(204).send();
  });
  scope.delete<{ Params: { id: string } }>(
    '/servicenow/faults/:id',
    doc('Remove one fault rule'),
    async (request, reply) => {
      if (!runtime.faults.remove(request.params.id)) throw notFound(`No fault rule ${request.params.id}`);
      return reply.status(204).send();
    },
  );
  scope.get('/servicenow/settings', doc('Emulator settings'), async () => runtime.settings);
  scope.patch('/servicenow/settings', doc('Change emulator settings'), async (request) => {
    const body = asBody(request.body);
    rejectUnknown(body, ['accessTokenLifetimeSeconds', 'defaultLimit']);
    for (const key of ['accessTokenLifetimeSeconds', 'defaultLimit'] as const) {
      const value = body[key];
      if (value === undefined) continue;
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 1_000_000)
        throw badRequest(`Setting '${key}' must be an integer in 1..1000000`);
      runtime.settings[key] = value;
    }
    return runtime.settings;
  });
  scope.get('/servicenow/stats', doc('Request and token counters'), async () => runtime.stats);
}
