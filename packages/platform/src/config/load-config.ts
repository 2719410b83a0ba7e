import { readFileSync } from 'node:fs';
import Value from 'typebox/value';
import { type Config, type ConfigKey, ConfigSchema, envName } from './schema.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv;
  /** Path of a JSON config file; defaults to `CALMHUB_CONFIG` when set. */
  file?: string | undefined;
  /** Values that win over everything (tests, CLI flags). */
  overrides?: Partial<Config>;
}

/** Reads file, then environment, then overrides; fails with one line naming the first bad key. */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const file = options.file ?? env.CALMHUB_CONFIG;
  const raw: Record<string, unknown> = {};
  if (file) Object.assign(raw, readConfigFile(file));
  for (const key of Object.keys(ConfigSchema.properties) as ConfigKey[]) {
    const value = env[envName(key)];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  Object.assign(raw, options.overrides);

  const unknown = Object.keys(raw).find((key) => !(key in ConfigSchema.properties));
  if (unknown)
    throw new ConfigError(`Invalid configuration: unknown key "${unknown}"${file ? ` in ${file}` : ''}`);

  const invalid = (key: ConfigKey, problem: string) =>
    new ConfigError(
      `Invalid configuration: ${key} (${envName(key)}) ${problem}, got ${JSON.stringify(raw[key])}`,
    );
  // TypeBox's conversion would quietly turn "2.7" into 2 and "0x10" into 16; accept digits only.
  for (const [key, rawValue] of Object.entries(raw) as Array<[ConfigKey, unknown]>) {
    const schema = ConfigSchema.properties[key] as { type?: string };
    if (schema.type === 'integer' && typeof rawValue === 'string' && !/^-?\d+$/.test(rawValue.trim())) {
      throw invalid(key, 'must be an integer');
    }
  }

  const value = Value.Convert(ConfigSchema, Value.Default(ConfigSchema, raw));
  const [first] = Value.Errors(ConfigSchema, value);
  if (first) {
    const key = first.instancePath.replace(/^\//, '').split('/')[0] as ConfigKey;
    const choices = allowedValues(key);
    throw invalid(key, choices ? `must be one of ${choices.join(', ')}` : (first.message ?? 'is invalid'));
  }
  return value as Config;
}

function allowedValues(key: ConfigKey): string[] | undefined {
  const schema = ConfigSchema.properties[key] as { anyOf?: Array<{ const?: unknown }> };
  return schema.anyOf?.map((option) => String(option.const));
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(
      `Invalid configuration: cannot read config file ${file} (${(error as NodeJS.ErrnoException).code})`,
    );
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new Error('not an object');
    return parsed as Record<string, unknown>;
  } catch (error) {
    throw new ConfigError(
      `Invalid configuration: config file ${file} is not a JSON object (${(error as Error).message})`,
    );
  }
}

/** The documentation table of every key, generated from the schema so it cannot drift. */
export function describeConfig(): Array<{
  key: ConfigKey;
  env: string;
  default: unknown;
  description: string;
}> {
  return (
    Object.entries(ConfigSchema.properties) as unknown as Array<
      [ConfigKey, { default: unknown; description: string }]
    >
  ).map(([key, schema]) => ({
    key,
    env: envName(key),
    default: schema.default,
    description: schema.description,
  }));
}
