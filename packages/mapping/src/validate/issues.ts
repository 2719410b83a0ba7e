import { formatJsonPointer } from '../json/json-pointer.js';

export type IssueSeverity = 'error' | 'warning';

/** A problem found in a mapping document, located by a JSON Pointer into that document. */
export interface MappingIssue {
  severity: IssueSeverity;
  /** RFC 6901 pointer to the offending value ("" = the whole document). */
  pointer: string;
  message: string;
  /** 1-based position in the source text, only for malformed JSON. */
  line?: number;
  column?: number;
}

/** Collects issues while walking a document; paths are kept as token arrays until reported. */
export class IssueCollector {
  readonly issues: MappingIssue[] = [];

  error(path: readonly (string | number)[], message: string): void {
    this.issues.push({ severity: 'error', pointer: formatJsonPointer(path), message });
  }

  warning(path: readonly (string | number)[], message: string): void {
    this.issues.push({ severity: 'warning', pointer: formatJsonPointer(path), message });
  }

  get hasErrors(): boolean {
    return this.issues.some((issue) => issue.severity === 'error');
  }
}

export function formatIssue(issue: MappingIssue): string {
  const where = issue.pointer === '' ? '(document)' : issue.pointer;
  const position = issue.line === undefined ? '' : ` (line ${issue.line}, column ${issue.column ?? 1})`;
  return `${issue.severity} ${where}${position}: ${issue.message}`;
}
