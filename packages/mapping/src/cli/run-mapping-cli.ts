import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { compileMapping } from '../compile/compile-mapping.js';
import { parseJsonText } from '../format/parse-json.js';
import type { JsonObject, JsonValue } from '../json/json-value.js';
import { isRecord } from '../json/json-value.js';
import { buildOperation, mapResponse } from '../operation/evaluate.js';
import type { ChangeMessage, LinkState, MappingEnvironment } from '../operation/types.js';
import { formatIssue, type MappingIssue } from '../validate/issues.js';
import { validateMapping } from '../validate/validate-mapping.js';

/** Structurally the CLI package's `Io`, declared here because the library cannot depend on the CLI. */
export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

export type ReadTextFile = (path: string) => string;

/** What `calmhub mapping run` prints: one JSON object. */
export interface MappingRunOutput {
  operation: { method: string; path: string; body: JsonValue } | null;
  response?: { fields: JsonObject; externalId: string | null } | null;
}

export const MAPPING_CLI_HELP = [
  'Usage:',
  '  calmhub mapping validate <mapping.json>',
  '  calmhub mapping run <mapping.json> --event <message.json> [options]',
  '',
  'validate   checks a Cloud ALM transformation mapping; prints each problem with its JSON Pointer',
  '           (exit 1 when the mapping has errors; warnings alone keep exit 0)',
  'run        evaluates the mapping offline for one change message and prints',
  '           { "operation": { "method", "path", "body" } | null, "response": { "fields", "externalId" } | null }',
  '',
  'Options for run:',
  '  --event <file>          the change message (subscriptionId, resourceType, eventType, resourceId, resource)',
  '  --response <file>       external response body to map back (adds "response" to the output)',
  '  --var <name=value>      subscription user variable for @USER_VAR(name); repeatable',
  '  --cloud-alm-url <url>   value of @CLOUD_ALM_URL',
  '  --external-id <id>      external id stored for the link (@CLOUD_ALM_EXTERNAL_ID)',
  '  --stored <file>         JSON object of Cloud ALM fields stored from earlier responses',
  '',
  '"path" is what gets appended to destination URL + webhook path; "body" is null when none is sent.',
].join('\n');

class CliUsageError extends Error {}
class CliInputError extends Error {}

/** Exit codes: 0 success, 1 invalid mapping or unreadable input, 2 wrong usage. */
export async function runMappingCli(
  args: readonly string[],
  io: CliIo,
  readTextFile: ReadTextFile = (path) => readFileSync(path, 'utf8'),
): Promise<number> {
  const [subcommand, ...rest] = args;
  try {
    if (subcommand === undefined) throw new CliUsageError('missing subcommand (validate or run)');
    if (subcommand === 'help' || subcommand === '--help' || subcommand === '-h') {
      io.stdout.write(`${MAPPING_CLI_HELP}\n`);
      return 0;
    }
    if (subcommand === 'validate') return validateCommand(rest, io, readTextFile);
    if (subcommand === 'run') return runCommand(rest, io, readTextFile);
    throw new CliUsageError(`unknown subcommand "${subcommand}" (expected validate or run)`);
  } catch (error) {
    if (error instanceof CliUsageError) {
      io.stderr.write(`calmhub mapping: ${error.message}\n\n${MAPPING_CLI_HELP}\n`);
      return 2;
    }
    if (error instanceof CliInputError) {
      io.stderr.write(`calmhub mapping: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

function validateCommand(args: readonly string[], io: CliIo, readTextFile: ReadTextFile): number {
  const { positionals } = parseCliArgs(args, {});
  if (positionals.length !== 1) throw new CliUsageError('validate takes exactly one mapping file');
  const file = positionals[0]!;
  const result = validateMapping(readFile(file, readTextFile));
  const errors = result.issues.filter((issue) => issue.severity === 'error');
  if (!result.valid) {
    io.stderr.write(`${file}: invalid mapping, ${errors.length} error(s)\n${formatIssues(result.issues)}`);
    return 1;
  }
  const compiled = compileMapping(readFile(file, readTextFile));
  const eventTypes = compiled.ok ? compiled.mapping.eventTypes : [];
  io.stdout.write(
    `${file}: valid ${result.format} mapping, ${eventTypes.length} operation(s)${eventTypes.length ? `: ${eventTypes.join(', ')}` : ''}\n${formatIssues(result.issues)}`,
  );
  return 0;
}

function runCommand(args: readonly string[], io: CliIo, readTextFile: ReadTextFile): number {
  const { values, positionals } = parseCliArgs(args, {
    event: { type: 'string' },
    response: { type: 'string' },
    var: { type: 'string', multiple: true },
    'cloud-alm-url': { type: 'string' },
    'external-id': { type: 'string' },
    stored: { type: 'string' },
  });
  if (positionals.length !== 1) throw new CliUsageError('run takes exactly one mapping file');
  const eventFile = stringOption(values.event);
  if (eventFile === undefined) throw new CliUsageError('run needs --event <message.json>');
  const mappingFile = positionals[0]!;
  const environment = buildEnvironment(values, readTextFile);

  const compiled = compileMapping(readFile(mappingFile, readTextFile));
  if (!compiled.ok) {
    const count = compiled.issues.filter((issue) => issue.severity === 'error').length;
    io.stderr.write(`${mappingFile}: invalid mapping, ${count} error(s)\n${formatIssues(compiled.issues)}`);
    return 1;
  }
  const message = readJson(eventFile, readTextFile);
  if (!isRecord(message) || typeof message.eventType !== 'string') {
    throw new CliInputError(`${eventFile}: a change message must be a JSON object with a string "eventType"`);
  }
  const outcome = buildOperation(compiled.mapping, message as unknown as ChangeMessage, environment);
  const output: MappingRunOutput = { operation: null };
  if (outcome.kind === 'call') {
    output.operation = { method: outcome.method, path: outcome.path, body: outcome.body ?? null };
  } else {
    io.stderr.write(`note: ${outcome.message}\n`);
  }
  const responseFile = stringOption(values.response);
  if (responseFile !== undefined) {
    const body = readJson(responseFile, readTextFile);
    const mapped = output.operation
      ? mapResponse(compiled.mapping, message.eventType, body, environment)
      : undefined;
    output.response =
      mapped?.kind === 'mapped' ? { fields: mapped.fields, externalId: mapped.externalId } : null;
  }
  io.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
  return 0;
}

function buildEnvironment(values: Record<string, unknown>, readTextFile: ReadTextFile): MappingEnvironment {
  const userVariables: Record<string, string> = {};
  const assignments = Array.isArray(values.var) ? (values.var as string[]) : [];
  for (const assignment of assignments) {
    const equals = assignment.indexOf('=');
    if (equals <= 0) throw new CliUsageError(`--var expects name=value, got "${assignment}"`);
    userVariables[assignment.slice(0, equals)] = assignment.slice(equals + 1);
  }
  const link: LinkState = {};
  const externalId = stringOption(values['external-id']);
  if (externalId !== undefined) link.externalId = externalId;
  const storedFile = stringOption(values.stored);
  if (storedFile !== undefined) {
    const stored = readJson(storedFile, readTextFile);
    if (!isRecord(stored)) throw new CliInputError(`${storedFile}: stored fields must be a JSON object`);
    link.fields = stored;
  }
  const environment: MappingEnvironment = { userVariables, link };
  const cloudAlmUrl = stringOption(values['cloud-alm-url']);
  if (cloudAlmUrl !== undefined) environment.cloudAlmUrl = cloudAlmUrl;
  return environment;
}

type OptionSpec = Record<string, { type: 'string'; multiple?: boolean }>;

function parseCliArgs(
  args: readonly string[],
  options: OptionSpec,
): { values: Record<string, unknown>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args: [...args],
      options,
      allowPositionals: true,
      strict: true,
    });
    return { values, positionals };
  } catch (error) {
    throw new CliUsageError(error instanceof Error ? error.message : String(error));
  }
}

function stringOption(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function readFile(path: string, readTextFile: ReadTextFile): string {
  try {
    return readTextFile(path);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CliInputError(`cannot read ${path}: ${reason}`);
  }
}

function readJson(path: string, readTextFile: ReadTextFile): unknown {
  const parsed = parseJsonText(readFile(path, readTextFile));
  if (!parsed.ok) throw new CliInputError(`${path}: ${formatIssue(parsed.issue)}`);
  return parsed.value;
}

function formatIssues(issues: readonly MappingIssue[]): string {
  return issues.map((issue) => `  ${formatIssue(issue)}\n`).join('');
}
