import Type from 'typebox';
import { Timestamp, Uuid } from '../http/schemas.js';
import { PipelineDefinition } from './definition.js';

const NullableString = Type.Union([Type.String(), Type.Null()]);

/** A copy of a JSON schema without `default`s (the request validator refuses them inside unions). */
function withoutDefaults(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withoutDefaults);
  if (typeof schema !== 'object' || schema === null) return schema;
  return Object.fromEntries(
    Object.entries(schema)
      .filter(([key]) => key !== 'default')
      .map(([key, value]) => [key, withoutDefaults(value)]),
  );
}

/**
 * The definition as an OpenAPI component (the shape itself lives in definition.ts). It documents
 * request bodies; the operations check them, so errors name the path inside the definition.
 */
export const PipelineDefinitionSchema = Type.Unsafe<PipelineDefinition>({
  ...(withoutDefaults(PipelineDefinition) as object),
  $id: 'PipelineDefinition',
  description:
    'A release pipeline: ordered stages, each with targets (CTMS node, Cloud Integration tenant, by credential ' +
    'name) and tasks (pre, deploy, post). Saved with its defaults filled in: approval `required` 1, deployment ' +
    '`backup` true and `rollbackOnFailure` false, validation `continueOnFailure` false.',
});

export const PipelineSummaryView = Type.Object(
  {
    id: Uuid,
    projectId: Uuid,
    name: Type.String(),
    description: NullableString,
    isDefault: Type.Boolean({
      description: "The project's default: stories without a pipeline of their own follow it.",
    }),
    version: Type.Integer({ description: 'The current version; every save makes a new one.' }),
    stages: Type.Array(Type.Object({ key: Type.String(), name: Type.String() })),
    updatedBy: Uuid,
    updatedAt: Timestamp,
  },
  { $id: 'PipelineSummary' },
);

export const PipelineView = Type.Object(
  {
    ...PipelineSummaryView.properties,
    definition: Type.Ref('PipelineDefinition'),
    createdBy: Uuid,
    createdAt: Timestamp,
  },
  { $id: 'Pipeline' },
);

export const PipelineVersionSummaryView = Type.Object(
  {
    pipelineId: Uuid,
    version: Type.Integer(),
    name: Type.String(),
    createdBy: Uuid,
    createdAt: Timestamp,
  },
  { $id: 'PipelineVersionSummary' },
);

export const PipelineVersionView = Type.Object(
  { ...PipelineVersionSummaryView.properties, definition: Type.Ref('PipelineDefinition') },
  { $id: 'PipelineVersion' },
);

export const ImportResultView = Type.Object({
  outcome: Type.Union([Type.Literal('created'), Type.Literal('updated'), Type.Literal('unchanged')], {
    description:
      'created: a new pipeline; updated: a new version of the pipeline of that name; unchanged: the file equals the current version.',
  }),
  pipeline: Type.Ref('Pipeline'),
});

export const StoryPipelineView = Type.Object({
  storyId: Uuid,
  source: Type.Union([Type.Literal('assigned'), Type.Literal('default'), Type.Literal('none')], {
    description:
      "assigned: the story's own; default: the project's default; none: the project has no pipeline.",
  }),
  assignedBy: Type.Union([Uuid, Type.Null()]),
  assignedAt: Type.Union([Timestamp, Type.Null()]),
  pipeline: Type.Union([Type.Ref('Pipeline'), Type.Null()]),
});

export const VersionParams = Type.Object({
  id: Uuid,
  version: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
});

export const ExportQuery = Type.Object(
  {
    version: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'Default: the current.' }),
    ),
  },
  { additionalProperties: false },
);

export const AssignPipelineBody = Type.Object(
  {
    pipelineId: Type.Union([Uuid, Type.Null()], {
      description: "A pipeline of the story's project; null: follow the project's default again.",
    }),
  },
  { additionalProperties: false },
);

/** The import body: YAML text (text/yaml, application/yaml), or JSON (a definition, or a string of YAML). */
export const ImportBody = Type.Union([
  Type.String({ description: 'The pipeline as YAML.' }),
  Type.Ref('PipelineDefinition'),
]);

export const YAML_CONTENT_TYPES = ['text/yaml', 'application/yaml', 'application/x-yaml', 'text/x-yaml'];
