import type { HttpMethod } from '../format/types.js';
import type { JsonObject, JsonValue } from '../json/json-value.js';

/** The Resource Changes API envelope Cloud ALM sends (reference §4.2). */
export interface ChangeMessage {
  subscriptionId?: string;
  resourceType?: string;
  eventType: string;
  resourceId?: string;
  resource?: unknown;
}

/** What is stored per (subscription, resource) between calls. */
export interface LinkState {
  externalId?: string | null;
  /** Cloud-ALM-side fields from earlier response mappings. */
  fields?: Readonly<Record<string, unknown>>;
}

export interface MappingEnvironment {
  /** The subscription's user variables, read by `#{@USER_VAR(name)}`. */
  userVariables?: Readonly<Record<string, string>>;
  /** Base URL of the Cloud ALM tenant, read by `#{@CLOUD_ALM_URL}`. */
  cloudAlmUrl?: string;
  link?: LinkState;
}

export type SkipReason = 'NO_OPERATION' | 'NO_EXTERNAL_ID';

export interface OutboundCall {
  kind: 'call';
  eventType: string;
  method: HttpMethod;
  /** Appended verbatim to destination URL + webhook path; "" when the operation has no path. */
  path: string;
  /** `undefined` means "send no body" (GET, DELETE, or no request template). */
  body: JsonValue | undefined;
}

export interface SkippedOperation {
  kind: 'skip';
  eventType: string;
  reason: SkipReason;
  message: string;
}

export type OperationOutcome = OutboundCall | SkippedOperation;

export interface MappedResponse {
  kind: 'mapped';
  eventType: string;
  /** Cloud-ALM-side fields produced by the response mapping. */
  fields: JsonObject;
  /** External id after this call, or null when none is known. */
  externalId: string | null;
  /** The link state to store: the new external id and the stored fields merged with `fields`. */
  link: { externalId: string | null; fields: JsonObject };
}

export type ResponseOutcome = MappedResponse | SkippedOperation;
