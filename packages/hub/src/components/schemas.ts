import Type from 'typebox';
import { HttpUrl, Name, Timestamp, Uuid } from '../http/schemas.js';

/** A transport request number: system id, `K`, six digits (S4DK900121). */
export const TRANSPORT_NUMBER = '^[A-Z0-9]{3}K\\d{6}$';
const TransportNumber = Type.String({ pattern: TRANSPORT_NUMBER, description: 'e.g. S4DK900121' });
const ShortText = Type.String({ minLength: 1, maxLength: 60, pattern: '^[^\\u0000-\\u001f\\u007f]+$' });
const Text = Type.String({ maxLength: 1000, pattern: '^[^\\u0000-\\u0008\\u000b-\\u001f\\u007f]*$' });
const NullableString = Type.Union([Type.String(), Type.Null()]);
const TransportStatus = Type.Union([Type.Literal('modifiable'), Type.Literal('released')]);
const CpiId = Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9_.-]+$' });
const CpiVersion = Type.String({ minLength: 1, maxLength: 40, pattern: '^[A-Za-z0-9_.-]+$' });

export const TransportObject = Type.Object(
  {
    pgmid: Type.Optional(
      Type.String({ pattern: '^[A-Za-z0-9]{4}$', description: 'R3TR, LIMU, ... (stored upper case)' }),
    ),
    type: Type.String({
      pattern: '^[A-Za-z0-9_]{1,4}$',
      description: 'CLAS, PROG, TABL, ... (stored upper case)',
    }),
    name: Type.String({ minLength: 1, maxLength: 120, pattern: '^[^\\u0000-\\u001f\\u007f]+$' }),
  },
  { additionalProperties: false },
);

const transportFields = {
  description: Type.Optional(Text),
  owner: Type.Optional(ShortText),
  sourceSystem: Type.Optional(ShortText),
  targetSystem: Type.Optional(ShortText),
  status: Type.Optional(TransportStatus),
  objects: Type.Optional(Type.Array(TransportObject, { maxItems: 10_000 })),
  objectsText: Type.Optional(
    Type.String({
      maxLength: 1_000_000,
      description:
        'The objects as exported: lines `R3TR CLAS ZCL_FOO` (SE09/ADT text, tab- or space-separated), ' +
        'or a JSON array of {pgmid?, type, name}. Replaces `objects`.',
    }),
  ),
};

const TransportInput = Type.Object(
  { number: TransportNumber, ...transportFields },
  { additionalProperties: false },
);
const CpiInput = Type.Object(
  { packageId: CpiId, artifactId: CpiId, version: Type.Optional(CpiVersion) },
  { additionalProperties: false },
);
const DeliverableInput = Type.Object({ name: Name, url: HttpUrl }, { additionalProperties: false });

const allowShared = Type.Optional(
  Type.Boolean({
    description: 'Attach a transport even when another open story has it (else 409 naming that story).',
  }),
);

export const AttachComponentBody = Type.Object(
  {
    abapTransport: Type.Optional(TransportInput),
    cpiArtifact: Type.Optional(CpiInput),
    deliverable: Type.Optional(DeliverableInput),
    allowShared,
  },
  {
    additionalProperties: false,
    minProperties: 1,
    description: 'Exactly one of abapTransport, cpiArtifact, deliverable.',
  },
);

export const UpdateComponentBody = Type.Object(
  {
    abapTransport: Type.Optional(
      Type.Object(
        { number: Type.Optional(TransportNumber), ...transportFields },
        { additionalProperties: false, minProperties: 1 },
      ),
    ),
    cpiArtifact: Type.Optional(
      Type.Object(
        {
          packageId: Type.Optional(CpiId),
          artifactId: Type.Optional(CpiId),
          version: Type.Optional(CpiVersion),
        },
        { additionalProperties: false, minProperties: 1 },
      ),
    ),
    deliverable: Type.Optional(
      Type.Object(
        { name: Type.Optional(Name), url: Type.Optional(HttpUrl) },
        { additionalProperties: false, minProperties: 1 },
      ),
    ),
    allowShared,
  },
  { additionalProperties: false, minProperties: 1, description: "Changes to the component's own kind." },
);

export const ComponentView = Type.Object(
  {
    id: Uuid,
    storyId: Uuid,
    kind: Type.Union([
      Type.Literal('abap_transport'),
      Type.Literal('cpi_artifact'),
      Type.Literal('deliverable'),
    ]),
    abapTransport: Type.Union([
      Type.Object({
        number: Type.String(),
        description: NullableString,
        owner: NullableString,
        sourceSystem: NullableString,
        targetSystem: NullableString,
        status: TransportStatus,
        objects: Type.Array(Type.Object({ pgmid: NullableString, type: Type.String(), name: Type.String() })),
        calmTransportUuid: Type.Union([Type.String(), Type.Null()], {
          description: 'Set when Cloud ALM lists this transport (fields default from it).',
        }),
      }),
      Type.Null(),
    ]),
    cpiArtifact: Type.Union([
      Type.Object({ packageId: Type.String(), artifactId: Type.String(), version: NullableString }),
      Type.Null(),
    ]),
    deliverable: Type.Union([Type.Object({ name: Type.String(), url: Type.String() }), Type.Null()]),
    createdBy: Uuid,
    createdAt: Timestamp,
    updatedBy: Uuid,
    updatedAt: Timestamp,
  },
  { $id: 'Component' },
);

export const TransportSuggestionView = Type.Object(
  {
    calmUuid: Type.String(),
    number: Type.String(),
    description: NullableString,
    owner: NullableString,
    status: Type.String(),
    sourceSystem: NullableString,
    targetSystem: NullableString,
    obsolete: Type.Boolean(),
    attachedTo: Type.Array(Type.Object({ storyId: Uuid, displayId: NullableString, title: Type.String() }), {
      description: 'Other open stories of the project that have this transport attached.',
    }),
  },
  { $id: 'TransportSuggestion' },
);
