import type { HttpApp } from '@calmhub/platform';
import '../shared/fastify-schema.js';
import { asBody, rejectUnknown } from '../shared/body.js';
import { badRequest, notFound } from '../shared/errors.js';
import { type ConsoleFilter, getDelivery, queryAttempts, queryDeliveries, toDelivery } from './console.js';
import {
  deleteCertificate,
  deleteDestination,
  getDestination,
  listCertificates,
  listDestinations,
  saveCertificate,
  saveDestination,
} from './destinations.js';
import {
  copyMapping,
  createMapping,
  deleteMapping,
  getMapping,
  listMappings,
  mappingVersions,
  updateMapping,
  validateOnly,
} from './mappings.js';
import { pruneConsole, resend, wakeDispatcher } from './push/engine.js';
import { DEFAULT_EAM_SETTINGS, type EamRuntime, type EamSettings, saveSettings } from './runtime.js';
import {
  closeSituation,
  createEventAction,
  deleteEventAction,
  deleteSituation,
  getSituation,
  listEventActions,
  listSituations,
  openSituation,
  pingTickets,
  updateSituation,
} from './situations.js';
import {
  assignToProject,
  createSubscription,
  deleteSubscription,
  getSubscription,
  listSubscriptions,
  projectAssignments,
  unassignFromProject,
  updateSubscription,
} from './subscriptions.js';
import { createWebhook, deleteWebhook, getWebhook, listWebhooks, updateWebhook } from './webhooks.js';

const doc = (tag: string, summary: string) => ({
  schema: { tags: [tag], summary, description: 'Requires `Authorization: Bearer <admin token>`.' },
});
type Id = { Params: { id: string } };

function readSettingsPatch(raw: unknown, current: EamSettings): EamSettings {
  const body = asBody(raw);
  rejectUnknown(body, Object.keys(DEFAULT_EAM_SETTINGS));
  const next = structuredClone(current);
  const positive = (key: keyof EamSettings, min: number, max: number): number | undefined => {
    const value = body[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max)
      throw badRequest(`Setting '${key}' must be a number in ${min}..${max}`);
    return value;
  };
  if (body.retryScheduleSeconds !== undefined) {
    const schedule = body.retryScheduleSeconds;
    if (
      !Array.isArray(schedule) ||
      schedule.length > 20 ||
      schedule.some((s) => typeof s !== 'number' || !Number.isFinite(s) || s < 0 || s > 7 * 86_400)
    )
      throw badRequest(
        "Setting 'retryScheduleSeconds' must be an array of at most 20 delays in seconds (0..604800)",
      );
    next.retryScheduleSeconds = schedule as number[];
  }
  next.retryJitter = positive('retryJitter', 0, 0.9) ?? next.retryJitter;
  next.requestTimeoutMs = positive('requestTimeoutMs', 100, 300_000) ?? next.requestTimeoutMs;
  next.responseExcerptChars = positive('responseExcerptChars', 0, 1_000_000) ?? next.responseExcerptChars;
  next.consoleRetentionDays = positive('consoleRetentionDays', 0, 3650) ?? next.consoleRetentionDays;
  next.pingIntervalSeconds = positive('pingIntervalSeconds', 1, 86_400) ?? next.pingIntervalSeconds;
  next.dispatchIntervalMs = positive('dispatchIntervalMs', 1000, 3_600_000) ?? next.dispatchIntervalMs;
  if (body.terminalExternalStatuses !== undefined) {
    const list = body.terminalExternalStatuses;
    if (!Array.isArray(list) || list.some((s) => typeof s !== 'string'))
      throw badRequest("Setting 'terminalExternalStatuses' must be an array of strings");
    next.terminalExternalStatuses = list as string[];
  }
  if (body.cloudAlmUrl !== undefined) {
    if (typeof body.cloudAlmUrl !== 'string') throw badRequest("Setting 'cloudAlmUrl' must be a string");
    next.cloudAlmUrl = body.cloudAlmUrl.replace(/\/+$/, '');
  }
  return next;
}

export async function registerEamAdminRoutes(
  scope: HttpApp,
  runtime: EamRuntime,
  onSettingsChanged: () => Promise<void>,
): Promise<void> {
  const db = runtime.db;

  // Destinations (BTP subaccount) and their certificates
  scope.get('/eam/destinations', doc('eam destinations', 'List destinations (secrets omitted)'), async () =>
    listDestinations(db),
  );
  scope.post(
    '/eam/destinations',
    doc('eam destinations', 'Create a destination from BTP JSON keys'),
    async (request, reply) => {
      const { destination, warnings } = await saveDestination(runtime, request.body, { create: true });
      return reply.status(201).send({ ...destination, ...(warnings.length ? { warnings } : {}) });
    },
  );
  scope.get<{ Params: { name: string } }>(
    '/eam/destinations/:name',
    doc('eam destinations', 'One destination'),
    async (request) => getDestination(db, request.params.name),
  );
  scope.put<{ Params: { name: string } }>(
    '/eam/destinations/:name',
    doc('eam destinations', 'Replace a destination (omitted secrets are kept)'),
    async (request) => {
      const { destination, warnings } = await saveDestination(runtime, request.body, {
        create: false,
        name: request.params.name,
      });
      return { ...destination, ...(warnings.length ? { warnings } : {}) };
    },
  );
  scope.delete<{ Params: { name: string } }>(
    '/eam/destinations/:name',
    doc('eam destinations', 'Delete a destination'),
    async (request, reply) => {
      await deleteDestination(runtime, request.params.name);
      return reply.status(204).send();
    },
  );
  scope.get('/eam/certificates', doc('eam destinations', 'Uploaded key stores and trust stores'), async () =>
    listCertificates(db),
  );
  scope.post(
    '/eam/certificates',
    doc('eam destinations', 'Upload a PEM key store (certificate + key) or trust store'),
    async (request, reply) => {
      const body = asBody(request.body);
      rejectUnknown(body, ['name', 'content', 'password']);
      if (typeof body.name !== 'string' || typeof body.content !== 'string')
        throw badRequest("Properties 'name' and 'content' (PEM text) are required");
      if (body.password !== undefined && typeof body.password !== 'string')
        throw badRequest("Property 'password' must be a string");
      return reply.status(201).send(
        await saveCertificate(runtime, {
          name: body.name,
          content: body.content,
          password: body.password as string | undefined,
        }),
      );
    },
  );
  scope.delete<{ Params: { name: string } }>(
    '/eam/certificates/:name',
    doc('eam destinations', 'Delete a certificate'),
    async (request, reply) => {
      await deleteCertificate(runtime, request.params.name);
      return reply.status(204).send();
    },
  );

  // Webhooks
  scope.get('/eam/webhooks', doc('eam webhooks', 'List webhooks'), async () => listWebhooks(db));
  scope.post('/eam/webhooks', doc('eam webhooks', 'Create a webhook'), async (request, reply) =>
    reply.status(201).send(await createWebhook(runtime, request.body)),
  );
  scope.get<Id>('/eam/webhooks/:id', doc('eam webhooks', 'One webhook'), async (request) =>
    getWebhook(db, request.params.id),
  );
  scope.patch<Id>('/eam/webhooks/:id', doc('eam webhooks', 'Change a webhook'), async (request) =>
    updateWebhook(runtime, request.params.id, request.body),
  );
  scope.delete<Id>('/eam/webhooks/:id', doc('eam webhooks', 'Delete a webhook'), async (request, reply) => {
    await deleteWebhook(runtime, request.params.id);
    return reply.status(204).send();
  });

  // Mappings
  scope.get('/eam/mappings', doc('eam mappings', 'List built-in and custom mappings'), async () =>
    listMappings(db),
  );
  scope.post(
    '/eam/mappings',
    doc('eam mappings', 'Create a mapping (validated; errors located by JSON Pointer)'),
    async (request, reply) => reply.status(201).send(await createMapping(runtime, request.body)),
  );
  scope.post(
    '/eam/mappings/validate',
    doc('eam mappings', 'Validate a mapping without saving it'),
    async (request) => validateOnly(request.body),
  );
  scope.get<Id>('/eam/mappings/:id', doc('eam mappings', 'One mapping'), async (request) =>
    getMapping(db, request.params.id),
  );
  scope.put<Id>('/eam/mappings/:id', doc('eam mappings', 'Change a mapping (new version)'), async (request) =>
    updateMapping(runtime, request.params.id, request.body),
  );
  scope.delete<Id>('/eam/mappings/:id', doc('eam mappings', 'Delete a mapping'), async (request, reply) => {
    await deleteMapping(runtime, request.params.id);
    return reply.status(204).send();
  });
  scope.post<Id>(
    '/eam/mappings/:id/copy',
    doc('eam mappings', 'Copy a mapping (how built-ins are customised)'),
    async (request, reply) =>
      reply.status(201).send(await copyMapping(runtime, request.params.id, request.body)),
  );
  scope.get<Id>(
    '/eam/mappings/:id/versions',
    doc('eam mappings', 'Versions of a mapping, newest first'),
    async (request) => mappingVersions(db, request.params.id),
  );

  // Subscriptions
  scope.get('/eam/subscriptions', doc('eam subscriptions', 'List subscriptions'), async () =>
    listSubscriptions(db),
  );
  scope.post(
    '/eam/subscriptions',
    doc('eam subscriptions', 'Create a subscription'),
    async (request, reply) => {
      const { subscription, warnings } = await createSubscription(runtime, request.body);
      return reply.status(201).send({ ...subscription, ...(warnings.length ? { warnings } : {}) });
    },
  );
  scope.get<Id>('/eam/subscriptions/:id', doc('eam subscriptions', 'One subscription'), async (request) =>
    getSubscription(db, request.params.id),
  );
  scope.patch<Id>(
    '/eam/subscriptions/:id',
    doc('eam subscriptions', 'Change a subscription'),
    async (request) => {
      const { subscription, warnings } = await updateSubscription(runtime, request.params.id, request.body);
      return { ...subscription, ...(warnings.length ? { warnings } : {}) };
    },
  );
  scope.delete<Id>(
    '/eam/subscriptions/:id',
    doc('eam subscriptions', 'Delete a subscription (and its assignments)'),
    async (request, reply) => {
      await deleteSubscription(runtime, request.params.id);
      return reply.status(204).send();
    },
  );

  // Project settings > Subscriptions (per-project opt-in)
  type ProjectParams = { Params: { projectId: string } };
  scope.get<ProjectParams>(
    '/projects/:projectId/subscriptions',
    doc('eam subscriptions', 'Subscriptions assigned in a project, per item type'),
    async (request) => projectAssignments(runtime, request.params.projectId),
  );
  scope.post<ProjectParams>(
    '/projects/:projectId/subscriptions',
    doc(
      'eam subscriptions',
      'Assign a subscription to an item type of a project ({itemType, subscriptionId})',
    ),
    async (request, reply) =>
      reply.status(201).send(await assignToProject(runtime, request.params.projectId, request.body)),
  );
  scope.delete<{ Params: { projectId: string; itemType: string; subscriptionId: string } }>(
    '/projects/:projectId/subscriptions/:itemType/:subscriptionId',
    doc('eam subscriptions', 'Remove an assignment'),
    async (request, reply) => {
      await unassignFromProject(
        runtime,
        request.params.projectId,
        request.params.itemType,
        request.params.subscriptionId,
      );
      return reply.status(204).send();
    },
  );

  // Console
  scope.get<{ Querystring: ConsoleFilter }>(
    '/eam/console/attempts',
    doc(
      'eam console',
      'Outbound call attempts, newest first (filters: subscriptionId, deliveryId, resourceId, resourceType, eventType, outcome, from, to, limit, before)',
    ),
    async (request) => queryAttempts(db, request.query),
  );
  scope.get<{ Querystring: ConsoleFilter }>(
    '/eam/console/deliveries',
    doc('eam console', 'Deliveries (one per message and subscription), newest first'),
    async (request) => queryDeliveries(db, request.query),
  );
  scope.get<Id>(
    '/eam/console/deliveries/:id',
    doc('eam console', 'One delivery with every attempt'),
    async (request) => getDelivery(db, request.params.id),
  );
  scope.post<Id>(
    '/eam/console/deliveries/:id/resend',
    doc('eam console', 'Send a finished delivery again (same message, same webhook-id)'),
    async (request, reply) => {
      const delivery = await resend(runtime, request.params.id);
      if (!delivery) throw notFound(`No delivery ${request.params.id}`);
      return reply.status(202).send(toDelivery(delivery));
    },
  );
  scope.post('/eam/console/prune', doc('eam console', 'Apply the retention now'), async () =>
    pruneConsole(runtime),
  );

  // Settings
  scope.get('/eam/settings', doc('eam settings', 'Push-engine settings'), async () => runtime.settings);
  scope.patch('/eam/settings', doc('eam settings', 'Change push-engine settings'), async (request) => {
    runtime.settings = readSettingsPatch(request.body, runtime.settings);
    await saveSettings(db, runtime.settings);
    await onSettingsChanged();
    return runtime.settings;
  });
  scope.post(
    '/eam/dispatch',
    doc('eam settings', 'Read the change stream now (normally automatic)'),
    async (_request, reply) => {
      await wakeDispatcher(runtime);
      return reply.status(202).send({ queued: true });
    },
  );

  // Event situations (Intelligent Event Processing)
  scope.get<{ Querystring: { status?: string } }>(
    '/situations',
    doc('event situations', 'Event situations, newest first'),
    async (request) => listSituations(db, request.query.status),
  );
  scope.post('/situations', doc('event situations', 'Open an event situation'), async (request, reply) =>
    reply.status(201).send(await openSituation(runtime, request.body)),
  );
  scope.get<Id>(
    '/situations/:id',
    doc('event situations', 'One event situation with its ticket fields'),
    async (request) => getSituation(db, request.params.id),
  );
  scope.patch<Id>(
    '/situations/:id',
    doc('event situations', 'Update: newOccurrence, rating, workNotes, subject, body, tags'),
    async (request) => updateSituation(runtime, request.params.id, request.body),
  );
  scope.post<Id>(
    '/situations/:id/close',
    doc('event situations', 'Close an event situation'),
    async (request) => closeSituation(runtime, request.params.id, request.body),
  );
  scope.delete<Id>(
    '/situations/:id',
    doc('event situations', 'Delete an event situation'),
    async (request, reply) => {
      await deleteSituation(runtime, request.params.id);
      return reply.status(204).send();
    },
  );
  scope.post<Id>(
    '/situations/:id/ping',
    doc('event situations', 'Refresh its ticket now (EVENT-SITUATION.PING)'),
    async (request, reply) => {
      await getSituation(db, request.params.id);
      return reply.status(202).send({ queued: await pingTickets(runtime, request.params.id) });
    },
  );
  scope.post(
    '/situations/ping',
    doc('event situations', 'Refresh every open ticket now'),
    async (_request, reply) => reply.status(202).send({ queued: await pingTickets(runtime) }),
  );
  scope.get(
    '/situations/event-actions',
    doc('event situations', '"Create Ticket" reactions per event'),
    async () => listEventActions(db),
  );
  scope.post(
    '/situations/event-actions',
    doc('event situations', 'Add a "Create Ticket" reaction ({eventName?, eventType?, subscriptionId})'),
    async (request, reply) => reply.status(201).send(await createEventAction(runtime, request.body)),
  );
  scope.delete<Id>(
    '/situations/event-actions/:id',
    doc('event situations', 'Remove a reaction'),
    async (request, reply) => {
      await deleteEventAction(runtime, request.params.id);
      return reply.status(204).send();
    },
  );
}
