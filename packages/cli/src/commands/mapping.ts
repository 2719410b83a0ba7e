import { MAPPING_CLI_HELP, runMappingCli } from '@calmhub/mapping/cli';
import type { Command } from './command.js';

export const mappingCommand: Command = {
  name: 'mapping',
  summary: 'validate or run a Cloud ALM transformation mapping offline',
  help: MAPPING_CLI_HELP,
  run(args, io) {
    return runMappingCli(args, io);
  },
};
