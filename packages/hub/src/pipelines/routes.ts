import type { HttpApp } from '@calmhub/platform';
import type { FastifyError, FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { HubDeps } from '../app/deps.js';
import { AUTH_ERRORS, errors, IdParams, listOf } from '../http/schemas.js';
import { deletePipeline, setDefaultPipeline } from './manage-pipeline.js';
import {
  exportPipeline,
  getPipeline,
  getPipelineVersion,
  listPipelines,
  listPipelineVersions,
} from './read-pipelines.js';
import { createPipeline, importPipeline, updatePipeline } from './save-pipeline.js';
import {
  AssignPipelineBody,
  ExportQuery,
  ImportBody,
  ImportResultView,
  PipelineDefinitionSchema,
  PipelineSummaryView,
  PipelineVersionSummaryView,
  PipelineVersionView,
  PipelineView,
  StoryPipelineView,
  VersionParams,
  YAML_CONTENT_TYPES,
} from './schemas.js';
import { assignStoryPipeline, getStoryPipeline } from './story-pipeline.js';

/**
 * Definitions are checked by the operations, whose errors name the path inside the definition
 * (`stages[1].tasks.deploy[0].kind`); the schema documents the body. Other parts fail as usual.
 */
function definitionBody(request: FastifyRequest): unknown {
  const invalid = request.validationError as FastifyError | undefined;
  if (invalid && invalid.validationContext !== 'body') throw invalid;
  return request.body;
}

const YAML_ANSWER = Type.String({ description: 'The pipeline as YAML (text/yaml).' });
const SAVE_DESCRIPTION =
  'Checked beyond the schema: stage keys unique; ctms_import/mta_upload need the stage’s targets.ctms; ' +
  'cpi_deploy needs targets.cloudIntegration on its stage and on the first stage (the source tenant); named ' +
  'credentials must exist, be global or the project’s own, and be of the target’s system (ctms, cloud_integration); ' +
  'approval roles must be project roles; `required` may not exceed the users named when no role is. Every error ' +
  'names its path.';

/** The import route, in its own scope: YAML bodies arrive as text. */
function registerImportRoute(app: HttpApp, deps: HubDeps, tags: string[]): void {
  app.register(async (plain) => {
    const scope = plain as unknown as HttpApp;
    scope.addContentTypeParser(YAML_CONTENT_TYPES, { parseAs: 'string' }, (_request, body, done) =>
      done(null, body),
    );
    scope.post(
      '/api/v1/projects/:id/pipelines/import',
      {
        config: { action: 'pipelines.manage' },
        attachValidation: true,
        schema: {
          tags,
          summary:
            'Pipeline as code: create a pipeline from YAML, or save the next version of the one of that name',
          description:
            'The body is YAML (`text/yaml` or `application/yaml`), or JSON: a definition, or a string holding YAML. ' +
            'A file equal to the current version changes nothing (`unchanged`). YAML errors answer 400 with line ' +
            `and column; definition errors name the path (and line). ${SAVE_DESCRIPTION}`,
          consumes: [...YAML_CONTENT_TYPES, 'application/json'],
          params: IdParams,
          body: ImportBody,
          response: { 200: ImportResultView, ...errors(...AUTH_ERRORS, 409, 415) },
        },
      },
      async (request) =>
        importPipeline(deps, request.actor, request.params.id, definitionBody(request), request.id),
    );
  });
}

export function registerPipelineRoutes(app: HttpApp, deps: HubDeps): void {
  for (const schema of [
    PipelineDefinitionSchema,
    PipelineSummaryView,
    PipelineView,
    PipelineVersionSummaryView,
    PipelineVersionView,
  ])
    app.addSchema(schema);
  const tags = ['pipelines'];

  app.get(
    '/api/v1/projects/:id/pipelines',
    {
      config: { action: 'pipelines.read' },
      schema: {
        tags,
        summary: "The project's release pipelines, the default first",
        params: IdParams,
        response: { 200: listOf(Type.Ref('PipelineSummary')), ...errors(...AUTH_ERRORS) },
      },
    },
    async (request) => ({ items: await listPipelines(deps, request.actor, request.params.id) }),
  );
  app.post(
    '/api/v1/projects/:id/pipelines',
    {
      config: { action: 'pipelines.manage' },
      attachValidation: true,
      schema: {
        tags,
        summary: "Create a release pipeline (the project's first becomes its default)",
        description: SAVE_DESCRIPTION,
        params: IdParams,
        body: Type.Ref('PipelineDefinition'),
        response: { 201: Type.Ref('Pipeline'), ...errors(...AUTH_ERRORS, 409) },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(
          await createPipeline(deps, request.actor, request.params.id, definitionBody(request), request.id),
        ),
  );
  app.get(
    '/api/v1/pipelines/:id',
    {
      config: { action: 'pipelines.read' },
      schema: {
        tags,
        summary: 'A pipeline: its current definition and version, and whether it is the default',
        params: IdParams,
        response: { 200: Type.Ref('Pipeline'), ...errors(...AUTH_ERRORS) },
      },
    },
    async (request) => getPipeline(deps, request.actor, request.params.id),
  );
  app.put(
    '/api/v1/pipelines/:id',
    {
      config: { action: 'pipelines.manage' },
      attachValidation: true,
      schema: {
        tags,
        summary: "Save a definition as the pipeline's next version (runs keep the version they started with)",
        description: SAVE_DESCRIPTION,
        params: IdParams,
        body: Type.Ref('PipelineDefinition'),
        response: { 200: Type.Ref('Pipeline'), ...errors(...AUTH_ERRORS, 409) },
      },
    },
    async (request) =>
      updatePipeline(deps, request.actor, request.params.id, definitionBody(request), request.id),
  );
  app.get(
    '/api/v1/pipelines/:id/versions',
    {
      config: { action: 'pipelines.read' },
      schema: {
        tags,
        summary: "A pipeline's saved versions, newest first",
        params: IdParams,
        response: { 200: listOf(Type.Ref('PipelineVersionSummary')), ...errors(...AUTH_ERRORS) },
      },
    },
    async (request) => ({ items: await listPipelineVersions(deps, request.actor, request.params.id) }),
  );
  app.get(
    '/api/v1/pipelines/:id/versions/:version',
    {
      config: { action: 'pipelines.read' },
      schema: {
        tags,
        summary: 'One saved version of a pipeline',
        params: VersionParams,
        response: { 200: Type.Ref('PipelineVersion'), ...errors(...AUTH_ERRORS) },
      },
    },
    async (request) => getPipelineVersion(deps, request.actor, request.params.id, request.params.version),
  );
  app.post(
    '/api/v1/pipelines/:id/default',
    {
      config: { action: 'pipelines.manage' },
      schema: {
        tags,
        summary: "Make the pipeline its project's default (the previous default stops being one)",
        params: IdParams,
        response: { 200: Type.Ref('Pipeline'), ...errors(...AUTH_ERRORS) },
      },
    },
    async (request) => setDefaultPipeline(deps, request.actor, request.params.id, request.id),
  );
  app.delete(
    '/api/v1/pipelines/:id',
    {
      config: { action: 'pipelines.manage' },
      schema: {
        tags,
        summary: 'Delete a pipeline (its versions stay for the runs that use them)',
        description:
          'Refused (409) while stories are assigned to it, and for the default while the project has other ' +
          'pipelines: make another one the default first. The last pipeline of a project may be deleted.',
        params: IdParams,
        response: { 204: Type.Null(), ...errors(...AUTH_ERRORS, 409) },
      },
    },
    async (request, reply) => {
      await deletePipeline(deps, request.actor, request.params.id, request.id);
      return reply.status(204).send(null);
    },
  );
  app.get(
    '/api/v1/pipelines/:id/export',
    {
      config: { action: 'pipelines.read' },
      schema: {
        tags,
        summary: 'Pipeline as code: the current (or a given) version as a YAML file',
        params: IdParams,
        querystring: ExportQuery,
        response: {
          200: { description: 'The pipeline as YAML', content: { 'text/yaml': { schema: YAML_ANSWER } } },
          ...errors(...AUTH_ERRORS),
        },
      },
    },
    async (request, reply) => {
      const file = await exportPipeline(deps, request.actor, request.params.id, request.query.version);
      return reply
        .type('text/yaml; charset=utf-8')
        .header('content-disposition', `attachment; filename="${file.fileName}"`)
        .send(file.yaml);
    },
  );
  registerImportRoute(app, deps, tags);

  app.get(
    '/api/v1/stories/:id/pipeline',
    {
      config: { action: 'pipelines.read' },
      schema: {
        tags,
        summary: "The pipeline a story follows: its own, else its project's default",
        params: IdParams,
        response: { 200: StoryPipelineView, ...errors(...AUTH_ERRORS) },
      },
    },
    async (request) => getStoryPipeline(deps, request.actor, request.params.id),
  );
  app.put(
    '/api/v1/stories/:id/pipeline',
    {
      config: { action: 'pipelines.manage' },
      schema: {
        tags,
        summary: "Assign a pipeline of the story's project to the story (null: follow the default again)",
        params: IdParams,
        body: AssignPipelineBody,
        response: { 200: StoryPipelineView, ...errors(...AUTH_ERRORS) },
      },
    },
    async (request) => assignStoryPipeline(deps, request.actor, request.params.id, request.body, request.id),
  );
}
