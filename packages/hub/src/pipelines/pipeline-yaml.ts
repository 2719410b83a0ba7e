import { AppError } from '@calmhub/platform';
import { Document, isMap, isNode, LineCounter, parseDocument } from 'yaml';
import type { DefinitionIssue, PathSegment } from './check-definition.js';
import type { PipelineDefinition } from './definition.js';

/** Pipeline as code: a definition as a YAML file and back. Pure: no I/O here. */

export interface Position {
  line: number;
  column: number;
}

export interface PipelineYaml {
  value: unknown;
  /** Where a path of the definition is written (the nearest node that exists). */
  locate(segments: PathSegment[]): Position | undefined;
}

/** Anchors and aliases may expand to at most this many nodes (no "billion laughs"). */
const MAX_ALIAS_COUNT = 100;

/** The first line of a YAML error, without the position the answer carries as fields. */
function yamlMessage(message: string): string {
  return (message.split('\n')[0] ?? message)
    .replace(/ at line \d+, column \d+:?$/, '')
    .replace(/; please use YAML\.parseAllDocuments\(\)/, '; a pipeline file holds one')
    .trim();
}

/**
 * Parses one YAML document (YAML 1.2 core schema: `yes` stays a string, duplicate keys are an
 * error). Syntax errors answer 400 naming line and column.
 */
export function readPipelineYaml(text: string): PipelineYaml {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true, version: '1.2' });
  const [error] = doc.errors;
  if (error) {
    const position = error.linePos?.[0];
    const where = position ? { line: position.line, column: position.col } : undefined;
    throw new AppError(
      'validation_failed',
      `Invalid YAML${where ? ` at line ${where.line}, column ${where.column}` : ''}: ${yamlMessage(error.message)}`,
      { details: [{ location: 'body', message: yamlMessage(error.message), ...where }] },
    );
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (cause) {
    throw new AppError('validation_failed', `Invalid YAML: ${(cause as Error).message}`, {
      details: [{ location: 'body', message: (cause as Error).message }],
    });
  }
  const position = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  return {
    value,
    locate(segments) {
      // A field is where its key is written; a list item where the item starts.
      for (let length = segments.length; length > 0; length--) {
        const parent = doc.getIn(segments.slice(0, length - 1), true);
        const last = segments[length - 1];
        if (isMap(parent)) {
          const pair = parent.items.find(
            (item) => isNode(item.key) && (item.key as { value?: unknown }).value === last,
          );
          if (pair && isNode(pair.key) && pair.key.range) return position(pair.key.range[0]);
        }
        const node = doc.getIn(segments.slice(0, length), true);
        if (isNode(node) && node.range) return position(node.range[0]);
      }
      return isNode(doc.contents) && doc.contents.range ? position(doc.contents.range[0]) : undefined;
    },
  };
}

/** Issues with the line and column they are written at. */
export function locateIssues(
  yaml: PipelineYaml,
  issues: DefinitionIssue[],
): Array<DefinitionIssue & Partial<Position>> {
  return issues.map((issue) => ({ ...issue, ...yaml.locate(issue.segments) }));
}

/** The definition as a YAML file, with a comment naming what it is. */
export function pipelineToYaml(definition: PipelineDefinition, meta: { version: number }): string {
  const doc = new Document(definition);
  doc.commentBefore =
    ` calmhub release pipeline "${definition.name.replace(/[\r\n]+/g, ' ')}", version ${meta.version}.\n` +
    ' Import: calmhub pipelines import --project <project> <file>';
  return doc.toString({ lineWidth: 0 });
}
