import { existsSync, readFileSync } from 'node:fs';
import { buildHub } from '@calmhub/hub';
import { createLogger, redactRequestUrl, startService } from '@calmhub/platform';
import type { Sandbox } from '@calmhub/sandbox';
import type { Command } from './command.js';
import { parseServerArgs, serverFlagsHelp } from './config-args.js';
import { linkDemoProject, startDemoSandbox } from './demo.js';

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the hub: REST API, OpenAPI docs and job worker (--demo: with a local Cloud ALM sandbox)',
  help: [
    'Usage: calmhub serve [options]',
    '',
    'Applies pending migrations, then serves until SIGTERM. The first start creates the admin user and',
    'writes an API token to <data dir>/admin-token (or run `calmhub tokens create --name N`).',
    '',
    '  --demo             also run the Cloud ALM sandbox (port 4100, seeded, data under <data dir>/sandbox)',
    '                     and link a "Demo" hub project to it through the hub API (what `npm start` does)',
    serverFlagsHelp,
  ].join('\n'),
  async run(args) {
    const demo = args.includes('--demo');
    const { config } = parseServerArgs(args.filter((arg) => arg !== '--demo'));
    const logger = createLogger(config.logLevel);
    let sandbox: Sandbox | undefined;
    if (demo) sandbox = await startDemoSandbox(config, logger);
    const hub = await buildHub({ config, logger });
    const url = await hub.start();
    logger.info(
      {
        url,
        docs: `${url}/api/docs`,
        store: config.databaseUrl ? 'postgres' : 'sqlite',
        tokenFile: hub.adminTokenFile,
      },
      'calmhub hub listening',
    );
    // The demo link is made with the first admin's token; without the token file it is left as it is.
    if (sandbox && existsSync(hub.adminTokenFile)) {
      const token = readFileSync(hub.adminTokenFile, 'utf8').trim();
      const linked: { webhookUrl?: string } = await linkDemoProject(url, token, sandbox).catch(
        (error: unknown) => {
          logger.warn({ err: error }, 'demo: could not link the Demo project to the sandbox');
          return {};
        },
      );
      logger.info(
        // The webhook key stays out of the log: `calmhub integrations --project Demo --json` shows it.
        {
          sandbox: sandbox.url,
          serviceKey: sandbox.serviceKeyPath,
          webhookUrl: linked.webhookUrl ? redactRequestUrl(linked.webhookUrl) : undefined,
        },
        'demo: the "Demo" project is linked to the sandbox Cloud ALM',
      );
    }
    startService(
      {
        async stop() {
          await hub.stop();
          await sandbox?.stop();
        },
      },
      logger,
    );
    // Keep running: the signal handler exits.
    await new Promise(() => {});
    return 0;
  },
};
