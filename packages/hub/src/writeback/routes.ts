import type { HttpApp } from '@calmhub/platform';
import Type from 'typebox';
import type { HubDeps } from '../app/deps.js';
import { AUTH_ERRORS, errors, IdParams, listOf } from '../http/schemas.js';
import { listWriteBacks } from './list-write-backs.js';
import { WriteBackSettingsBody, WriteBackSettingsView, WriteBackView } from './schemas.js';
import { getWriteBackSettings, updateWriteBackSettings } from './write-back-settings.js';

export function registerWriteBackRoutes(app: HttpApp, deps: HubDeps): void {
  app.addSchema(WriteBackSettingsView);
  app.addSchema(WriteBackView);
  const tags = ['write-back'];

  app.get(
    '/api/v1/integrations/:id/writeback-settings',
    {
      config: { action: 'integrations.read' },
      schema: {
        tags,
        summary: 'What the hub writes back to Cloud ALM for this integration',
        params: IdParams,
        response: { 200: Type.Ref('WriteBackSettings'), ...errors(...AUTH_ERRORS) },
      },
    },
    async (request) => getWriteBackSettings(deps, request.actor, request.params.id),
  );
  app.put(
    '/api/v1/integrations/:id/writeback-settings',
    {
      config: { action: 'integrations.manage' },
      schema: {
        tags,
        summary: 'Switch write-back targets (comments, feature lines, references) and action kinds on or off',
        params: IdParams,
        body: WriteBackSettingsBody,
        response: { 200: Type.Ref('WriteBackSettings'), ...errors(...AUTH_ERRORS) },
      },
    },
    async (request) => updateWriteBackSettings(deps, request.actor, request.params.id, request.body),
  );
  app.get(
    '/api/v1/stories/:id/writebacks',
    {
      config: { action: 'project.read' },
      schema: {
        tags,
        summary: "The story's write-backs to Cloud ALM, newest first, with their state and last error",
        params: IdParams,
        response: { 200: listOf(Type.Ref('WriteBack')), ...errors(...AUTH_ERRORS) },
      },
    },
    async (request) => ({ items: await listWriteBacks(deps, request.actor, request.params.id) }),
  );
}
