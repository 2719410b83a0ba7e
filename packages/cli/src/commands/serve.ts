import { buildHub } from '@calmhub/hub';
import { createLogger, startService } from '@calmhub/platform';
import type { Command } from './command.js';
import { parseServerArgs, serverFlagsHelp } from './config-args.js';

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the hub: REST API, OpenAPI docs and job worker',
  help: [
    'Usage: calmhub serve [options]',
    '',
    'Applies pending migrations, then serves until SIGTERM.',
    '',
    serverFlagsHelp,
  ].join('\n'),
  async run(args) {
    const { config } = parseServerArgs(args);
    const logger = createLogger(config.logLevel);
    const hub = await buildHub({ config, logger });
    const url = await hub.start();
    logger.info(
      { url, docs: `${url}/api/docs`, store: config.databaseUrl ? 'postgres' : 'sqlite' },
      'calmhub hub listening',
    );
    startService(hub, logger);
    // Keep running: the signal handler exits.
    await new Promise(() => {});
    return 0;
  },
};
