import type { CompiledMapping } from '../compile/compile-mapping.js';
import type { EvaluationContext } from '../expression/context.js';
import { resolveTokens } from '../json/json-pointer.js';
import { isRecord, type JsonObject, toJsonValue, toText } from '../json/json-value.js';
import type {
  ChangeMessage,
  LinkState,
  MappingEnvironment,
  OperationOutcome,
  ResponseOutcome,
  SkippedOperation,
} from './types.js';

/**
 * Builds the outbound call for a change message. Without a mapping the call is a POST of the raw change
 * message (reference §4.2). Never throws, whatever the message holds.
 */
export function buildOperation(
  mapping: CompiledMapping | null | undefined,
  message: ChangeMessage,
  environment: MappingEnvironment = {},
): OperationOutcome {
  const eventType = typeof message?.eventType === 'string' ? message.eventType : '';
  if (!mapping) return { kind: 'call', eventType, method: 'POST', path: '', body: toJsonValue(message) };
  const operation = mapping.operationFor(eventType);
  if (!operation) return noOperation(eventType);
  const context = createContext(message?.resource, environment);
  for (const guard of operation.externalIdGuards) {
    if (toText(guard(context)) === '') {
      return {
        kind: 'skip',
        eventType,
        reason: 'NO_EXTERNAL_ID',
        message: `the ${operation.method} for ${eventType} addresses the external object, but the link has no external id yet`,
      };
    }
  }
  return {
    kind: 'call',
    eventType,
    method: operation.method,
    path: operation.path(context),
    body: operation.request === undefined ? undefined : operation.request(context),
  };
}

/**
 * Maps the external system's response for an event type back to Cloud-ALM-side fields and the external id.
 * The id comes from `externalIdProperty` (a JSON Pointer below `responseRoot`); without it, or when it points
 * at nothing, from the mapped `externalId`, then `externalResourceId`, then the id already stored.
 */
export function mapResponse(
  mapping: CompiledMapping | null | undefined,
  eventType: string,
  responseBody: unknown,
  environment: MappingEnvironment = {},
): ResponseOutcome {
  const link = environment.link;
  const storedFields = isRecord(link?.fields) ? (toJsonValue(link.fields) as JsonObject) : {};
  const previousId = idText(link?.externalId);
  if (!mapping) {
    return {
      kind: 'mapped',
      eventType,
      fields: {},
      externalId: previousId,
      link: { externalId: previousId, fields: storedFields },
    };
  }
  const operation = mapping.operationFor(eventType);
  if (!operation) return noOperation(eventType);
  const root = operation.responseRoot(responseBody);
  const context = createContext(root, environment);
  const mapped = operation.response === undefined ? {} : operation.response(context);
  const fields: JsonObject = isRecord(mapped) ? (mapped as JsonObject) : {};
  const fromPointer =
    operation.externalIdTokens === undefined ? null : idText(resolveTokens(root, operation.externalIdTokens));
  const externalId =
    fromPointer ?? idText(fields.externalId) ?? idText(fields.externalResourceId) ?? previousId;
  return {
    kind: 'mapped',
    eventType,
    fields,
    externalId,
    link: { externalId, fields: Object.assign(storedFields, fields) },
  };
}

function createContext(data: unknown, environment: MappingEnvironment): EvaluationContext {
  const link: LinkState | undefined = environment.link;
  const url = environment.cloudAlmUrl;
  return {
    data,
    stored: isRecord(link?.fields) ? link.fields : undefined,
    userVariables: isRecord(environment.userVariables) ? environment.userVariables : undefined,
    // The templates append "/launchpad…" themselves, so a trailing slash would double up.
    cloudAlmUrl: typeof url === 'string' ? url.replace(/\/+$/, '') : '',
    externalId: idText(link?.externalId) ?? '',
  };
}

/** Ids are strings; numeric ids (Jira's are numeric strings, others plain numbers) become their text. */
function idText(value: unknown): string | null {
  if (typeof value === 'string') return value === '' ? null : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

function noOperation(eventType: string): SkippedOperation {
  return {
    kind: 'skip',
    eventType,
    reason: 'NO_OPERATION',
    message: `the mapping has no operation for event type "${eventType}"; nothing is sent`,
  };
}

/** Final URL = destination URL + webhook path + operation path, concatenated without slash normalisation. */
export function composeUrl(
  destinationUrl: string,
  webhookPath: string | undefined,
  operationPath: string,
): string {
  return destinationUrl + (webhookPath ?? '') + operationPath;
}
