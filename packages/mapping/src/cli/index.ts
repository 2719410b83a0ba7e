export {
  type CliIo,
  MAPPING_CLI_HELP,
  type MappingRunOutput,
  type ReadTextFile,
  runMappingCli,
} from './run-mapping-cli.js';
