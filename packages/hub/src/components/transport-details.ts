import type { Kysely } from 'kysely';
import { invalidField } from '../credentials/credential-input.js';
import type { CalmStoriesTable, HubTables } from '../store/tables.js';
import { checkObject, dedupe, parseTransportObjects, type TransportObjectInput } from './parse-objects.js';
import { calmTransportByNumber } from './store.js';
import type { AbapTransportDetails } from './views.js';

export interface TransportFieldsInput {
  number?: string | undefined;
  description?: string | undefined;
  owner?: string | undefined;
  sourceSystem?: string | undefined;
  targetSystem?: string | undefined;
  status?: 'modifiable' | 'released' | undefined;
  objects?: TransportObjectInput[] | undefined;
  objectsText?: string | undefined;
}

const MAX_OBJECTS = 10_000;

/** `objectsText` (an export) wins over `objects`; undefined when neither is given. */
function objectsOf(input: TransportFieldsInput) {
  if (input.objectsText !== undefined && input.objects !== undefined)
    throw invalidField('abapTransport.objectsText', 'and abapTransport.objects cannot both be given');
  let objects: ReturnType<typeof parseTransportObjects> | undefined;
  if (input.objectsText !== undefined) objects = parseTransportObjects(input.objectsText);
  else if (input.objects !== undefined)
    objects = dedupe(input.objects.map((o, i) => checkObject(o, `item ${i + 1}`, 'abapTransport.objects')));
  if (objects && objects.length > MAX_OBJECTS)
    throw invalidField('abapTransport.objects', `lists ${objects.length} objects; at most ${MAX_OBJECTS}`);
  return objects;
}

/** Cloud ALM's transport status words, where they say one of the two the hub keeps. */
function statusFromCalm(status: string): 'modifiable' | 'released' | undefined {
  if (/releas/i.test(status)) return 'released';
  if (/modifiable|open|changeable/i.test(status)) return 'modifiable';
  return undefined;
}

const orNull = (value: string | undefined): string | null => {
  const trimmed = value?.trim();
  return trimmed ? trimmed : null;
};

/**
 * The stored fields of a transport component: what was entered over `previous`, with blanks
 * filled from the transport Cloud ALM lists under that number (when it does).
 */
export async function transportDetails(
  db: Kysely<HubTables>,
  story: CalmStoriesTable,
  input: TransportFieldsInput,
  before?: AbapTransportDetails,
): Promise<AbapTransportDetails> {
  // A different number is a different transport: nothing carries over from the old one.
  const previous = input.number !== undefined && input.number !== before?.number ? undefined : before;
  const number = input.number ?? previous?.number;
  if (!number) throw invalidField('abapTransport.number', 'is required');
  const calm = await calmTransportByNumber(db, story.integration_id, number);
  const pick = (
    entered: string | undefined,
    before: string | null | undefined,
    fromCalm: string | null | undefined,
  ) => (entered !== undefined ? orNull(entered) : (before ?? fromCalm ?? null));
  return {
    number,
    description: pick(input.description, previous?.description, calm?.description),
    owner: pick(input.owner, previous?.owner, calm?.owner),
    sourceSystem: pick(input.sourceSystem, previous?.sourceSystem, calm?.source_system),
    targetSystem: pick(input.targetSystem, previous?.targetSystem, calm?.target_system),
    status:
      input.status ?? previous?.status ?? (calm ? statusFromCalm(calm.status) : undefined) ?? 'modifiable',
    objects: objectsOf(input) ?? previous?.objects ?? [],
    calmTransportUuid: calm?.calm_uuid ?? null,
  };
}
