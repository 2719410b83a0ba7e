export {
  type CompiledMapping,
  type CompiledOperation,
  type CompileResult,
  compileMapping,
  type MappingOptions,
} from './compile/compile-mapping.js';
export type { ExpressionError, ParsedTemplateString, Reference, TemplatePart } from './expression/ast.js';
export { parseTemplateString } from './expression/parse.js';
export { parseJsonText } from './format/parse-json.js';
export {
  HTTP_METHODS,
  type HttpMethod,
  type MappingFormat,
  type NormalisedMapping,
  type NormalisedOperation,
  type NormalisedSwitch,
  type NormaliseOptions,
} from './format/types.js';
export { formatJsonPointer, parseJsonPointer } from './json/json-pointer.js';
export type { JsonObject, JsonPrimitive, JsonValue } from './json/json-value.js';
export { buildOperation, composeUrl, mapResponse } from './operation/evaluate.js';
export type {
  ChangeMessage,
  LinkState,
  MappedResponse,
  MappingEnvironment,
  OperationOutcome,
  OutboundCall,
  ResponseOutcome,
  SkippedOperation,
  SkipReason,
} from './operation/types.js';
export { formatIssue, type IssueSeverity, type MappingIssue } from './validate/issues.js';
export { analyseMapping, type ValidationResult, validateMapping } from './validate/validate-mapping.js';
