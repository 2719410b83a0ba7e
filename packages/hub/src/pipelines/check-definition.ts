import { AppError } from '@calmhub/platform';
import Value from 'typebox/value';
import { PROJECT_ROLES } from '../access/permissions.js';
import { orderedTasks, PipelineDefinition, type PipelineStage } from './definition.js';

/**
 * Checks of a pipeline definition that need no I/O: its shape (every error names the path, e.g.
 * `stages[1].tasks.deploy[0].kind`), then the rules across fields. Credentials are checked against
 * the store by `validate-pipeline.ts`.
 */

export type PathSegment = string | number;

export interface DefinitionIssue {
  /** Where, as keys and indexes from the definition's root. */
  segments: PathSegment[];
  message: string;
}

/** `stages[1].tasks.deploy[0].kind`; the root is `definition`. */
export function pathText(segments: PathSegment[]): string {
  if (segments.length === 0) return 'definition';
  return segments
    .map((segment, index) =>
      typeof segment === 'number' ? `[${segment}]` : index === 0 ? segment : `.${segment}`,
    )
    .join('');
}

/** What the issues are, as the API answers them: 400 `validation_failed`, the first in the message. */
export function definitionError(
  issues: Array<DefinitionIssue & { line?: number; column?: number }>,
  prefix = 'body',
): AppError {
  const [first] = issues;
  const at = (issue: DefinitionIssue & { line?: number; column?: number }) =>
    issue.line === undefined ? '' : ` (line ${issue.line}, column ${issue.column})`;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  const message = first ? `${pathText(first.segments)} ${first.message}${at(first)}${more}` : 'is invalid';
  return new AppError('validation_failed', `Invalid pipeline: ${message}`, {
    details: issues.map((issue) => ({
      location: issue.segments.length ? `${prefix}/${pathText(issue.segments)}` : prefix,
      message: issue.message,
      ...(issue.line === undefined ? {} : { line: issue.line, column: issue.column }),
    })),
  });
}

type JsonSchema = {
  type?: string;
  const?: unknown;
  anyOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
};

const MAX_ISSUES = 20;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const list = (values: unknown[]) => values.map(String).join(', ');

/** Unions of literals say which values are allowed; the task union is picked by `type`. */
function walkUnion(
  options: JsonSchema[],
  value: unknown,
  at: PathSegment[],
  issues: DefinitionIssue[],
): void {
  const issue = (message: string, segments = at): void => {
    issues.push({ segments, message });
  };
  const consts = options.filter((option) => 'const' in option).map((option) => option.const);
  if (consts.length === options.length) {
    if (!consts.includes(value)) issue(`must be one of ${list(consts)}`);
    return;
  }
  const types = options.map((option) => option.properties?.type?.const);
  if (!isObject(value)) {
    issue(`must be an object with a type (${list(types)})`);
    return;
  }
  const chosen = options[types.indexOf(value.type)];
  if (!chosen) {
    issue(`must be one of ${list(types)}`, [...at, 'type']);
    return;
  }
  walk(chosen, value, at, issues);
}

/**
 * Walks the definition's JSON schema along the value, collecting issues that name their path (the
 * task union is picked by the task's `type`, so its errors name the task's own fields).
 */
function walk(schema: JsonSchema, value: unknown, at: PathSegment[], issues: DefinitionIssue[]): void {
  if (issues.length >= MAX_ISSUES) return;
  const issue = (message: string, segments = at): void => {
    issues.push({ segments, message });
  };
  if (schema.anyOf) {
    walkUnion(schema.anyOf, value, at, issues);
    return;
  }
  if (schema.const !== undefined) {
    if (value !== schema.const) issue(`must be ${String(schema.const)}`);
    return;
  }
  switch (schema.type) {
    case 'object': {
      if (!isObject(value)) {
        issue('must be an object');
        return;
      }
      for (const name of schema.required ?? []) if (!(name in value)) issue('is required', [...at, name]);
      for (const [name, field] of Object.entries(value)) {
        const property = schema.properties?.[name];
        if (property) walk(property, field, [...at, name], issues);
        else if (schema.additionalProperties === false) issue('is not a known field', [...at, name]);
      }
      return;
    }
    case 'array': {
      if (!Array.isArray(value)) {
        issue('must be a list');
        return;
      }
      if (schema.minItems !== undefined && value.length < schema.minItems)
        issue(`needs at least ${schema.minItems} item(s)`);
      if (schema.maxItems !== undefined && value.length > schema.maxItems)
        issue(`takes at most ${schema.maxItems} items`);
      if (schema.uniqueItems && new Set(value.map((item) => JSON.stringify(item))).size !== value.length)
        issue('must not repeat an item');
      value.forEach((item, index) => {
        if (schema.items) walk(schema.items, item, [...at, index], issues);
      });
      return;
    }
    case 'string': {
      if (typeof value !== 'string') {
        issue('must be a string');
        return;
      }
      if (schema.minLength !== undefined && value.length < schema.minLength)
        issue(schema.minLength === 1 ? 'must not be empty' : `needs at least ${schema.minLength} characters`);
      if (schema.maxLength !== undefined && value.length > schema.maxLength)
        issue(`takes at most ${schema.maxLength} characters`);
      if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value))
        issue(`must match ${schema.pattern}`);
      return;
    }
    case 'integer':
    case 'number': {
      if (
        typeof value !== 'number' ||
        !Number.isFinite(value) ||
        (schema.type === 'integer' && !Number.isInteger(value))
      ) {
        issue(`must be ${schema.type === 'integer' ? 'an integer' : 'a number'}`);
        return;
      }
      if (schema.minimum !== undefined && value < schema.minimum) issue(`must be at least ${schema.minimum}`);
      if (schema.maximum !== undefined && value > schema.maximum) issue(`must be at most ${schema.maximum}`);
      return;
    }
    case 'boolean':
      if (typeof value !== 'boolean') issue('must be true or false');
      return;
  }
}

/** Converts a TypeBox error's JSON pointer into segments (the safety net below). */
function segmentsOf(pointer: string): PathSegment[] {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

/**
 * The definition's shape: issues naming their path, or the definition with its defaults filled in
 * (what is stored, so the API, a YAML file and a run all read the same thing).
 */
export function readDefinition(
  value: unknown,
): { ok: true; definition: PipelineDefinition } | { ok: false; issues: DefinitionIssue[] } {
  const issues: DefinitionIssue[] = [];
  walk(PipelineDefinition as unknown as JsonSchema, value, [], issues);
  if (issues.length === 0 && !Value.Check(PipelineDefinition, value)) {
    // The walk covers every keyword the definition uses; this only guards against a new one.
    const [first] = Value.Errors(PipelineDefinition, value);
    issues.push({ segments: segmentsOf(first?.instancePath ?? ''), message: first?.message ?? 'is invalid' });
  }
  if (issues.length > 0) return { ok: false, issues };
  const definition = Value.Default(PipelineDefinition, structuredClone(value)) as PipelineDefinition;
  return { ok: true, definition };
}

const CTMS_KINDS = new Set(['ctms_import', 'mta_upload']);

function stageIssues(stage: PipelineStage, index: number, first: PipelineStage): DefinitionIssue[] {
  const issues: DefinitionIssue[] = [];
  const at: PathSegment[] = ['stages', index];
  if (index === 0 && orderedTasks(stage).length > 0)
    issues.push({
      segments: [...at, 'tasks'],
      message: 'must be empty: the first stage is where development happens, and no tasks run on entering it',
    });
  for (const phase of ['pre', 'deploy', 'post'] as const) {
    (stage.tasks?.[phase] ?? []).forEach((task, position) => {
      const taskAt: PathSegment[] = [...at, 'tasks', phase, position];
      if (task.type === 'deployment') {
        if (CTMS_KINDS.has(task.kind) && !stage.targets?.ctms)
          issues.push({
            segments: [...taskAt, 'kind'],
            message: `${task.kind} needs the stage's targets.ctms (a CTMS credential and node)`,
          });
        if (task.kind === 'cpi_deploy') {
          if (!stage.targets?.cloudIntegration)
            issues.push({
              segments: [...taskAt, 'kind'],
              message: "cpi_deploy needs the stage's targets.cloudIntegration (the tenant deployed to)",
            });
          if (!first.targets?.cloudIntegration)
            issues.push({
              segments: [...taskAt, 'kind'],
              message: 'cpi_deploy needs stages[0].targets.cloudIntegration (the tenant artifacts come from)',
            });
        }
      }
      if (task.type === 'approval') {
        const users = new Set((task.users ?? []).map((user) => user.trim().toLowerCase()));
        const roles = task.roles ?? [];
        if (users.size === 0 && roles.length === 0)
          issues.push({ segments: taskAt, message: 'needs approvers: users, roles or both' });
        roles.forEach((role, r) => {
          if (!(PROJECT_ROLES as readonly string[]).includes(role))
            issues.push({
              segments: [...taskAt, 'roles', r],
              message: `is not a project role (${PROJECT_ROLES.join(', ')})`,
            });
        });
        const required = task.required ?? 1;
        if (roles.length === 0 && users.size > 0 && required > users.size)
          issues.push({
            segments: [...taskAt, 'required'],
            message: `asks for ${required} approvals but names only ${users.size} approver(s)`,
          });
      }
    });
  }
  return issues;
}

/** The rules across fields of a well-shaped definition. */
export function definitionIssues(definition: PipelineDefinition): DefinitionIssue[] {
  const issues: DefinitionIssue[] = [];
  const seen = new Map<string, number>();
  const [first] = definition.stages;
  definition.stages.forEach((stage, index) => {
    const earlier = seen.get(stage.key);
    if (earlier !== undefined)
      issues.push({ segments: ['stages', index, 'key'], message: `repeats the key of stages[${earlier}]` });
    else seen.set(stage.key, index);
    if (first) issues.push(...stageIssues(stage, index, first));
  });
  return issues;
}

/** The credentials a definition names, each with where it is named and the system it must be. */
export function namedCredentials(
  definition: PipelineDefinition,
): Array<{ name: string; system: 'ctms' | 'cloud_integration'; segments: PathSegment[] }> {
  return definition.stages.flatMap((stage, index) => [
    ...(stage.targets?.ctms
      ? [
          {
            name: stage.targets.ctms.credential,
            system: 'ctms' as const,
            segments: ['stages', index, 'targets', 'ctms', 'credential'],
          },
        ]
      : []),
    ...(stage.targets?.cloudIntegration
      ? [
          {
            name: stage.targets.cloudIntegration.credential,
            system: 'cloud_integration' as const,
            segments: ['stages', index, 'targets', 'cloudIntegration', 'credential'],
          },
        ]
      : []),
  ]);
}
