/**
 * Everything an expression can read during one evaluation. `data` is the change message's `resource` on the
 * request side and the external response (below `responseRoot`) on the response side.
 */
export interface EvaluationContext {
  data: unknown;
  /** Cloud-ALM-side fields stored from earlier response mappings of the same link. */
  stored: Readonly<Record<string, unknown>> | undefined;
  userVariables: Readonly<Record<string, unknown>> | undefined;
  /** Without trailing slash, "" when unknown. */
  cloudAlmUrl: string;
  /** "" when the link has no external id yet. */
  externalId: string;
}

export type ValueFn = (context: EvaluationContext) => unknown;
export type TextFn = (context: EvaluationContext) => string;
