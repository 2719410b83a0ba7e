import { normaliseMapping } from '../format/normalise.js';
import { parseJsonText } from '../format/parse-json.js';
import type { MappingFormat, NormalisedMapping, NormaliseOptions } from '../format/types.js';
import { isRecord } from '../json/json-value.js';
import { checkExpressions } from './check-expressions.js';
import { IssueCollector, type MappingIssue } from './issues.js';

export interface ValidationResult {
  /** True when there is no issue of severity "error"; warnings do not make a mapping invalid. */
  valid: boolean;
  format: MappingFormat | undefined;
  issues: MappingIssue[];
}

export interface AnalysedMapping extends ValidationResult {
  normalised: NormalisedMapping | undefined;
}

/**
 * Accepts the mapping as JSON text or as an already parsed value. Never throws for bad input: every
 * problem becomes an issue with a JSON Pointer into the document.
 */
export function analyseMapping(input: unknown, options: NormaliseOptions = {}): AnalysedMapping {
  let document = input;
  if (typeof input === 'string') {
    const parsed = parseJsonText(input);
    if (!parsed.ok) return { valid: false, format: undefined, issues: [parsed.issue], normalised: undefined };
    document = parsed.value;
  }
  const issues = new IssueCollector();
  const normalised = normaliseMapping(document, issues, options);
  if (normalised) checkExpressions(normalised, issues);
  return {
    valid: !issues.hasErrors,
    format: normalised?.format,
    issues: inDocumentOrder(issues.issues, document),
    normalised,
  };
}

/** Structural and expression checks run in separate passes; readers expect the document's own order. */
function inDocumentOrder(issues: MappingIssue[], document: unknown): MappingIssue[] {
  if (issues.length < 2) return issues;
  const order = new Map<string, number>();
  const visit = (value: unknown, pointer: string): void => {
    order.set(pointer, order.size);
    if (Array.isArray(value)) {
      for (let index = 0; index < value.length; index++) visit(value[index], `${pointer}/${index}`);
    } else if (isRecord(value)) {
      for (const [key, item] of Object.entries(value))
        visit(item, `${pointer}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`);
    }
  };
  visit(document, '');
  const rank = (issue: MappingIssue) => order.get(issue.pointer) ?? Number.MAX_SAFE_INTEGER;
  return [...issues].sort((a, b) => rank(a) - rank(b));
}

export function validateMapping(input: unknown, options: NormaliseOptions = {}): ValidationResult {
  const { valid, format, issues } = analyseMapping(input, options);
  return { valid, format, issues };
}
