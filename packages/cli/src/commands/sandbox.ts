import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createLogger, startService } from '@calmhub/platform';
import {
  DEFAULT_SANDBOX_PORT,
  type FaultRuleInput,
  type Sandbox,
  type SandboxOptions,
  startSandbox,
  validateFaultRule,
} from '@calmhub/sandbox';
import type { Command, Io } from './command.js';

const flags = {
  port: { type: 'string' },
  host: { type: 'string' },
  data: { type: 'string' },
  memory: { type: 'boolean' },
  seed: { type: 'string' },
  'seed-features': { type: 'string' },
  'seed-stories': { type: 'string' },
  'database-url': { type: 'string' },
  'public-url': { type: 'string' },
  'page-size': { type: 'string' },
  'token-lifetime': { type: 'string' },
  faults: { type: 'string' },
  'log-level': { type: 'string' },
} as const;

const help = [
  'Usage: calmhub sandbox [options]',
  '',
  'Runs the SAP Cloud ALM sandbox: XSUAA-style /oauth/token, the Projects, Tasks and Features APIs',
  'under /api, an admin API under /admin and a small UI at /ui. Serves until SIGTERM.',
  '',
  'Options:',
  `  --port <port>            port to listen on (default ${DEFAULT_SANDBOX_PORT}; 0 = any free port)`,
  '  --host <host>            interface to listen on (default 127.0.0.1)',
  '  --data <dir>             data directory (default ./data); files go to <dir>/sandbox/',
  '  --memory                 keep Cloud ALM data in memory (service key and admin token are still written)',
  '  --database-url <url>     store the data in PostgreSQL (postgres://...)',
  '  --seed demo              seed a realistic small tenant (idempotent)',
  '  --seed-features <n>      seed a large project with n features ...',
  '  --seed-stories <m>       ... and m user stories assigned to them',
  '  --public-url <url>       base URL clients use, if not the listening address',
  '  --page-size <n>          OData server-driven page size (default 1000)',
  '  --token-lifetime <s>     access token lifetime in seconds (default 43199)',
  '  --faults <file>          JSON array of fault rules to start with (see the sandbox README)',
  '  --log-level <level>      fatal, error, warn, info (default), debug, trace',
  '',
  'On start it writes <data>/sandbox/service-key.json (a technical client with every scope) and',
  '<data>/sandbox/admin-token, and prints both paths and the base URLs.',
].join('\n');

class SandboxUsageError extends Error {}

function integer(name: string, raw: string | undefined, min: number): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < min)
    throw new SandboxUsageError(`--${name} must be an integer >= ${min}`);
  return Number(raw);
}

/** Translates the command line into sandbox options; throws SandboxUsageError for bad input. */
export function sandboxOptionsFromArgs(args: string[]): SandboxOptions {
  let values: ReturnType<typeof parseArgs<{ args: string[]; options: typeof flags; strict: true }>>['values'];
  try {
    ({ values } = parseArgs({ args, options: flags, strict: true }));
  } catch (error) {
    throw new SandboxUsageError((error as Error).message);
  }
  if (values.seed !== undefined && values.seed !== 'demo')
    throw new SandboxUsageError(`unknown seed "${values.seed}" (only "demo")`);
  if (values.memory && values['database-url'])
    throw new SandboxUsageError('--memory and --database-url exclude each other');
  if (values['database-url'] !== undefined && !/^postgres(ql)?:\/\//.test(values['database-url'])) {
    throw new SandboxUsageError('--database-url must be a postgres:// URL');
  }
  const options: SandboxOptions = {
    port: integer('port', values.port, 0) ?? DEFAULT_SANDBOX_PORT,
    host: values.host ?? '127.0.0.1',
    dataDir: values.data ?? './data',
    memory: values.memory ?? false,
    logLevel: values['log-level'] ?? 'info',
  };
  if (options.port !== undefined && options.port > 65535)
    throw new SandboxUsageError('--port must be <= 65535');
  if (values['database-url']) options.databaseUrl = values['database-url'];
  if (values['public-url']) options.publicUrl = values['public-url'];
  if (values.seed === 'demo') options.seed = 'demo';
  const seedFeatures = integer('seed-features', values['seed-features'], 0);
  const seedStories = integer('seed-stories', values['seed-stories'], 0);
  if (seedFeatures !== undefined) options.seedFeatures = seedFeatures;
  if (seedStories !== undefined) options.seedStories = seedStories;
  if (seedStories && !seedFeatures)
    throw new SandboxUsageError('--seed-stories needs --seed-features (stories are assigned to features)');
  const pageSize = integer('page-size', values['page-size'], 1);
  const tokenLifetime = integer('token-lifetime', values['token-lifetime'], 1);
  options.settings = {
    ...(pageSize !== undefined ? { pageSize } : {}),
    ...(tokenLifetime !== undefined ? { tokenLifetimeSeconds: tokenLifetime } : {}),
  };
  if (values.faults) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(values.faults, 'utf8'));
    } catch (error) {
      throw new SandboxUsageError(`cannot read --faults ${values.faults}: ${(error as Error).message}`);
    }
    if (!Array.isArray(parsed))
      throw new SandboxUsageError(`invalid --faults ${values.faults}: expected a JSON array of fault rules`);
    // Checked here, not left to startSandbox: a bad rule is a usage error, not a stack trace.
    parsed.forEach((rule: unknown, index) => {
      const problem = validateFaultRule(rule);
      if (problem)
        throw new SandboxUsageError(`invalid --faults ${values.faults}: rule ${index + 1}: ${problem}`);
    });
    options.faults = parsed as FaultRuleInput[];
  }
  return options;
}

export function describeSandbox(sandbox: Sandbox): string {
  const lines = [
    'Cloud ALM sandbox listening',
    `  API base (endpoints.Api)  ${sandbox.apiUrl}`,
    `  Token URL                 ${sandbox.tokenUrl}`,
    `  Projects                  ${sandbox.apiUrl}/calm-projects/v1`,
    `  Tasks                     ${sandbox.apiUrl}/calm-tasks/v1`,
    `  Features (OData v4)       ${sandbox.apiUrl}/calm-features/v1`,
    `  Admin API                 ${sandbox.url}/admin  (OpenAPI: ${sandbox.url}/api/openapi.json, docs: ${sandbox.url}/api/docs)`,
    `  UI                        ${sandbox.url}/ui`,
    ...Object.entries(sandbox.endpoints).map(([label, url]) => `  ${label.padEnd(24)}  ${url}`),
  ];
  if (sandbox.serviceKeyPath) lines.push(`  Service key               ${sandbox.serviceKeyPath}`);
  if (sandbox.adminTokenPath) lines.push(`  Admin token               ${sandbox.adminTokenPath}`);
  for (const [name, path] of Object.entries(sandbox.files)) lines.push(`  ${name.padEnd(24)}  ${path}`);
  const { demo, large } = sandbox.seeded;
  if (demo)
    lines.push(
      demo.skipped
        ? '  Seed demo                 already present'
        : `  Seed demo                 ${demo.features} features, ${demo.tasks} tasks`,
    );
  if (large) {
    lines.push(
      large.skipped
        ? `  Seed large                already present (project ${large.projectId})`
        : `  Seed large                ${large.features} features, ${large.tasks} stories in ${Math.round(large.millis)} ms (project ${large.projectId})`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Starts the sandbox from command-line arguments and prints where everything is (tests use this with --port 0). */
export async function launchSandbox(args: string[], io: Io): Promise<Sandbox> {
  const options = sandboxOptionsFromArgs(args);
  const sandbox = await startSandbox({ ...options, logger: createLogger(options.logLevel ?? 'info') });
  io.stdout.write(describeSandbox(sandbox));
  // The same facts as one JSON log line, for scripts that wait for the sandbox to come up.
  sandbox.context.logger.info(
    {
      url: sandbox.url,
      apiUrl: sandbox.apiUrl,
      serviceKeyPath: sandbox.serviceKeyPath,
      adminTokenPath: sandbox.adminTokenPath,
    },
    'calmhub sandbox listening',
  );
  return sandbox;
}

export const sandboxCommand: Command = {
  name: 'sandbox',
  summary: 'run the SAP Cloud ALM sandbox (emulated public APIs, admin API, UI)',
  help,
  async run(args, io) {
    let sandbox: Sandbox;
    try {
      sandbox = await launchSandbox(args, io);
    } catch (error) {
      if (error instanceof SandboxUsageError) {
        io.stderr.write(`calmhub sandbox: ${error.message}\n`);
        return 2;
      }
      throw error;
    }
    startService(sandbox, sandbox.context.logger);
    // Keep running: the signal handler exits.
    await new Promise(() => {});
    return 0;
  },
};
