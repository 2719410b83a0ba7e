import Type from 'typebox';
import { NullableTimestamp, Timestamp, Uuid } from '../http/schemas.js';

/** A Cloud ALM status or code as the API spells it. */
const Code = Type.String({ minLength: 1, maxLength: 40, pattern: '^[A-Za-z0-9_.-]+$' });
const NullableString = Type.Union([Type.String(), Type.Null()]);
const NullableInteger = Type.Union([Type.Integer(), Type.Null()]);
/** Labels people put on stories in the hub: short, no spaces at either end, no control characters. */
const Label = Type.String({
  minLength: 1,
  maxLength: 50,
  pattern: '^[^\\s\\u0000-\\u001f\\u007f,](?:[^\\u0000-\\u001f\\u007f,]*[^\\s\\u0000-\\u001f\\u007f,])?$',
});

export const CalmLinkView = Type.Object(
  {
    id: Type.String({ description: "Cloud ALM's display id, else its id." }),
    url: Type.String({ description: 'Opens the item in the Cloud ALM UI.' }),
    inferred: Type.Boolean({ description: "True when the link's form is inferred, not documented." }),
  },
  { $id: 'CalmLink', description: 'The External ID: the item in Cloud ALM, with a deep link.' },
);

export const FeatureSummaryView = Type.Object(
  {
    id: Uuid,
    calmUuid: Type.String(),
    displayId: NullableString,
    title: Type.String(),
    status: Type.Object({ code: Type.String(), name: NullableString }),
    priorityCode: NullableInteger,
    obsolete: Type.Boolean(),
    externalId: Type.Ref('CalmLink'),
  },
  { $id: 'FeatureSummary' },
);

const storySummaryProperties = {
  id: Uuid,
  calmId: Type.String(),
  displayId: NullableString,
  title: Type.String(),
  status: Type.String(),
  subStatus: NullableString,
  priorityId: NullableInteger,
  assigneeId: NullableString,
  obsolete: Type.Boolean(),
  labels: Type.Array(Type.String()),
  componentCount: Type.Integer({ description: 'Attached components (detached ones not counted).' }),
  modifiedAt: Timestamp,
  syncedAt: Timestamp,
  externalId: Type.Ref('CalmLink'),
};

export const StorySummaryView = Type.Object(storySummaryProperties, { $id: 'StorySummary' });

export const TransitionView = Type.Object(
  {
    from: NullableString,
    to: Type.String(),
    changedAt: Timestamp,
    source: Type.String({ description: 'The sync path that saw it first: full, delta, sweep or webhook.' }),
  },
  { $id: 'StatusTransition' },
);

export const CalmTransportView = Type.Object(
  {
    calmUuid: Type.String(),
    number: Type.String({ description: 'The transport request, e.g. S4DK900121.' }),
    description: NullableString,
    owner: NullableString,
    status: Type.String(),
    sourceSystem: NullableString,
    targetSystem: NullableString,
    obsolete: Type.Boolean(),
  },
  { $id: 'CalmTransport', description: 'A transport Cloud ALM lists on a feature.' },
);

const IntegrationRef = Type.Object({ id: Uuid, name: Type.String() });

export const StoryView = Type.Object(
  {
    ...storySummaryProperties,
    integration: IntegrationRef,
    descriptionHtml: Type.Union([Type.String(), Type.Null()], {
      description: "Cloud ALM's description, sanitised (no scripts, event handlers or foreign URL schemes).",
    }),
    feature: Type.Union([Type.Ref('FeatureSummary'), Type.Null()]),
    calm: Type.Object(
      {
        type: NullableString,
        assigneeName: NullableString,
        startDate: NullableString,
        dueDate: NullableString,
        storyPoints: Type.Union([Type.Number(), Type.Null()]),
        effort: Type.Union([Type.Number(), Type.Null()]),
        externalId: Type.Union([Type.String(), Type.Null()], {
          description: "Cloud ALM's own externalId field.",
        }),
        createdAt: NullableString,
      },
      { description: 'Further Cloud ALM fields, as synced.' },
    ),
    transitions: Type.Array(Type.Ref('StatusTransition')),
    notes: NullableString,
    hubFieldsUpdatedBy: Type.Union([Uuid, Type.Null()]),
    hubFieldsUpdatedAt: NullableTimestamp,
    components: Type.Array(Type.Ref('Component')),
  },
  { $id: 'Story' },
);

export const FeatureView = Type.Object(
  {
    ...FeatureSummaryView.properties,
    integration: IntegrationRef,
    descriptionHtml: Type.Union([Type.String(), Type.Null()]),
    priority: Type.Union([Type.Object({ code: Type.Integer(), name: NullableString }), Type.Null()]),
    responsibleId: NullableString,
    modifiedAt: Timestamp,
    syncedAt: Timestamp,
    transitions: Type.Array(Type.Ref('StatusTransition')),
    stories: Type.Array(Type.Ref('StorySummary')),
    transports: Type.Array(Type.Ref('CalmTransport')),
  },
  { $id: 'Feature' },
);

export const STORY_SORTS = ['feature', 'displayId', 'title', 'status', 'priority', 'modifiedAt'] as const;

export const StoryListQuery = Type.Object(
  {
    featureStatus: Type.Optional(
      Type.Array(Code, { maxItems: 20, description: 'Feature status codes (repeat the key).' }),
    ),
    status: Type.Optional(
      Type.Array(Code, { maxItems: 20, description: 'Story status codes (repeat the key).' }),
    ),
    search: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description: 'Part of the title or display id, or the Cloud ALM id.',
      }),
    ),
    featureId: Type.Optional(Uuid),
    includeObsolete: Type.Optional(Type.Boolean({ default: false })),
    sort: Type.Optional(
      Type.Union(
        STORY_SORTS.map((s) => Type.Literal(s)),
        { description: 'Order of the stories within each feature; features are in display id order.' },
      ),
    ),
    order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')])),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 })),
  },
  { additionalProperties: false },
);

export const StoryGroupsView = Type.Object(
  {
    groups: Type.Array(
      Type.Object({
        feature: Type.Union([Type.Ref('FeatureSummary'), Type.Null()], {
          description: 'Null for stories linked to no (synced) feature.',
        }),
        stories: Type.Array(Type.Ref('StorySummary')),
      }),
    ),
    total: Type.Integer({ description: 'Stories matching the filters, across all pages.' }),
    limit: Type.Integer(),
    offset: Type.Integer(),
    nextOffset: NullableInteger,
  },
  { description: 'One page of stories (paged by story), grouped by feature in order.' },
);

export const UpdateStoryBody = Type.Object(
  {
    notes: Type.Optional(Type.Union([Type.String({ maxLength: 20_000 }), Type.Null()])),
    labels: Type.Optional(Type.Array(Label, { maxItems: 30, uniqueItems: true })),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const FeatureQuery = Type.Object(
  { includeObsolete: Type.Optional(Type.Boolean({ default: false })) },
  { additionalProperties: false },
);
