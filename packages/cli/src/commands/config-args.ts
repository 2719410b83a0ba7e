import { parseArgs } from 'node:util';
import { type Config, ConfigError, loadConfig } from '@calmhub/platform';

/** Flags every server command shares; they win over the environment and the config file. */
export const serverFlags = {
  config: { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  'data-dir': { type: 'string' },
} as const;

export const serverFlagsHelp = [
  '  --config <file>    JSON config file (keys as in the README); also CALMHUB_CONFIG',
  '  --host <host>      interface to listen on (HOST)',
  '  --port <port>      port to listen on (PORT)',
  '  --data-dir <dir>   data directory (CALMHUB_DATA_DIR)',
].join('\n');

export function parseServerArgs(args: string[]): { config: Config; positionals: string[] } {
  let parsed: ReturnType<
    typeof parseArgs<{ args: string[]; options: typeof serverFlags; allowPositionals: true; strict: true }>
  >;
  try {
    parsed = parseArgs({ args, options: serverFlags, allowPositionals: true, strict: true });
  } catch (error) {
    // parseArgs explains unknown flags and missing values well; show that, not a stack trace.
    throw new ConfigError((error as Error).message);
  }
  const { values, positionals } = parsed;
  const overrides: Record<string, unknown> = {};
  if (values.host !== undefined) overrides.host = values.host;
  if (values.port !== undefined) overrides.port = values.port;
  if (values['data-dir'] !== undefined) overrides.dataDir = values['data-dir'];
  return {
    config: loadConfig({ file: values.config, overrides: overrides as Partial<Config> }),
    positionals,
  };
}
