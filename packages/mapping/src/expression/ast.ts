/** What a placeholder or the second SWITCH argument refers to. */
export type Reference =
  | { kind: 'path'; segments: readonly string[] }
  | { kind: 'cloudAlmUrl' }
  | { kind: 'cloudAlmExternalId' }
  | { kind: 'userVariable'; name: string };

export type TemplatePart =
  | { kind: 'text'; text: string }
  | { kind: 'placeholder'; reference: Reference; source: string }
  | { kind: 'switch'; switchName: string; reference: Reference; source: string; offset: number };

export interface ExpressionError {
  /** 0-based index in the template string where the problem starts. */
  offset: number;
  message: string;
}

export interface ParsedTemplateString {
  parts: TemplatePart[];
  errors: ExpressionError[];
}
