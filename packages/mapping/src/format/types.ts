export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

export type MappingFormat = 'payload-based' | 'rule-based';

export type PointerPath = readonly (string | number)[];

/** A template value together with where it sits in the source document. */
export interface LocatedTemplate {
  value: unknown;
  at: PointerPath;
}

export interface LocatedText {
  text: string;
  at: PointerPath;
}

export interface NormalisedSwitch {
  name: string;
  at: PointerPath;
  /** `result` is the case's `then` template. */
  cases: { when: string | number | boolean | null; result: LocatedTemplate }[];
  defaultValue: LocatedTemplate | undefined;
}

export interface NormalisedOperation {
  eventType: string;
  method: HttpMethod;
  at: PointerPath;
  path: LocatedText | undefined;
  /** "" = the whole response body. */
  responseRoot: LocatedText;
  externalIdProperty: LocatedText | undefined;
  /** Per-operation overrides; each side replaces the mapping-wide side independently. */
  request: LocatedTemplate | undefined;
  response: LocatedTemplate | undefined;
}

/** Both document formats reduce to this shape. */
export interface NormalisedMapping {
  format: MappingFormat;
  information: Readonly<Record<string, string>>;
  switches: NormalisedSwitch[];
  request: LocatedTemplate | undefined;
  response: LocatedTemplate | undefined;
  operations: NormalisedOperation[];
}

export interface NormaliseOptions {
  /**
   * Rule-based rule syntax is not documented publicly. By default a rule value is a template like in the
   * payload-based format (`"#{subject}"`); with this flag a bare value without expressions (`"subject"`) is read
   * as a field path instead.
   */
  ruleBasedBareFieldNames?: boolean;
}
