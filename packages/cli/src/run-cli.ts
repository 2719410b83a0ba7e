import { ConfigError } from '@calmhub/platform';
import { auditCommand } from './commands/audit.js';
import type { Command, Io } from './commands/command.js';
import { componentsCommand } from './commands/components.js';
import { credentialsCommand } from './commands/credentials.js';
import { integrationsCommand } from './commands/integrations.js';
import { mappingCommand } from './commands/mapping.js';
import { migrateCommand } from './commands/migrate.js';
import { pipelinesCommand } from './commands/pipelines.js';
import { projectsCommand } from './commands/projects.js';
import {
  abortCommand,
  approveCommand,
  promoteCommand,
  retryCommand,
  rollbackCommand,
  runsCommand,
} from './commands/runs.js';
import { sandboxCommand } from './commands/sandbox.js';
import { serveCommand } from './commands/serve.js';
import { storiesCommand } from './commands/stories.js';
import { syncCommand } from './commands/sync.js';
import { tenantsCommand } from './commands/tenants.js';
import { tokensCommand } from './commands/tokens.js';
import { usersCommand } from './commands/users.js';
import { inboxCommand, webhookUrlCommand } from './commands/webhook.js';
import { UsageError } from './usage-error.js';
import { CLI_VERSION } from './version.js';

const COMMANDS: Command[] = [
  serveCommand,
  migrateCommand,
  tokensCommand,
  tenantsCommand,
  usersCommand,
  projectsCommand,
  credentialsCommand,
  integrationsCommand,
  storiesCommand,
  componentsCommand,
  pipelinesCommand,
  syncCommand,
  webhookUrlCommand,
  inboxCommand,
  promoteCommand,
  runsCommand,
  approveCommand,
  retryCommand,
  abortCommand,
  rollbackCommand,
  auditCommand,
  sandboxCommand,
  mappingCommand,
];

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'calmhub: delivery hub for SAP landscapes, working with SAP Cloud ALM',
    '',
    'Usage: calmhub <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Options:',
    '  --help       show help (also: calmhub <command> --help)',
    '  --version    print the version',
    '',
    'Configuration comes from environment variables and an optional JSON file (--config <file>);',
    'every key and its default is listed in the README.',
  ].join('\n');
}

/** Returns the exit code; never calls process.exit, so tests can run it in-process. */
export async function runCli(argv: string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(`${usage()}\n`);
    return 0;
  }
  if (name === '--version' || name === '-v') {
    io.stdout.write(`${CLI_VERSION}\n`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.stderr.write(`calmhub: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(`${command.help}\n`);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof UsageError) {
      io.stderr.write(`calmhub ${name}: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

export { UsageError };
