import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, describeConfig, loadConfig } from './load-config.js';
import { envName } from './schema.js';

describe('configuration', () => {
  it('has documented defaults for every key', () => {
    const config = loadConfig({ env: {} });
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 4000,
      databaseUrl: '',
      dataDir: './data',
      logLevel: 'info',
      jobConcurrency: 10,
    });
    for (const entry of describeConfig()) {
      expect(entry.description.length).toBeGreaterThan(10);
      expect(entry.default).not.toBeUndefined();
    }
  });

  it('uses CALMHUB_ variables, except the conventional HOST, PORT and DATABASE_URL', () => {
    expect(envName('dataDir')).toBe('CALMHUB_DATA_DIR');
    expect(envName('jobLeaseMs')).toBe('CALMHUB_JOB_LEASE_MS');
    const config = loadConfig({
      env: {
        HOST: '0.0.0.0',
        PORT: '8080',
        DATABASE_URL: 'postgres://u@db/calm',
        CALMHUB_DATA_DIR: '/var/calmhub',
        CALMHUB_JOB_CONCURRENCY: '4',
      },
    });
    expect(config).toMatchObject({
      host: '0.0.0.0',
      port: 8080,
      databaseUrl: 'postgres://u@db/calm',
      dataDir: '/var/calmhub',
      jobConcurrency: 4,
    });
  });

  it('reads a JSON config file, with the environment winning over it', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'calmhub-config-')), 'calmhub.json');
    writeFileSync(file, JSON.stringify({ port: 5000, logLevel: 'debug' }));
    expect(loadConfig({ env: { CALMHUB_CONFIG: file } })).toMatchObject({ port: 5000, logLevel: 'debug' });
    expect(loadConfig({ env: { CALMHUB_CONFIG: file, PORT: '6000' } })).toMatchObject({
      port: 6000,
      logLevel: 'debug',
    });
  });

  it('stops with one line naming the bad key', () => {
    const fail = (env: Record<string, string>) => {
      try {
        loadConfig({ env });
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as Error).message;
      }
      throw new Error('expected a ConfigError');
    };
    expect(fail({ PORT: 'eighty' })).toBe(
      'Invalid configuration: port (PORT) must be an integer, got "eighty"',
    );
    expect(fail({ CALMHUB_JOB_CONCURRENCY: '2.7' })).toBe(
      'Invalid configuration: jobConcurrency (CALMHUB_JOB_CONCURRENCY) must be an integer, got "2.7"',
    );
    expect(fail({ PORT: '0x10' })).toBe('Invalid configuration: port (PORT) must be an integer, got "0x10"');
    expect(fail({ PORT: '70000' })).toMatch(/^Invalid configuration: port \(PORT\) must be <= 65535/);
    expect(fail({ CALMHUB_LOG_LEVEL: 'loud' })).toBe(
      'Invalid configuration: logLevel (CALMHUB_LOG_LEVEL) must be one of fatal, error, warn, info, debug, trace, silent, got "loud"',
    );
    expect(fail({ DATABASE_URL: 'mysql://x' })).toMatch(
      /^Invalid configuration: databaseUrl \(DATABASE_URL\)/,
    );
    const file = join(mkdtempSync(join(tmpdir(), 'calmhub-config-')), 'bad.json');
    writeFileSync(file, JSON.stringify({ prot: 1 }));
    expect(fail({ CALMHUB_CONFIG: file })).toBe(`Invalid configuration: unknown key "prot" in ${file}`);
    writeFileSync(file, '{ not json');
    expect(fail({ CALMHUB_CONFIG: file })).toMatch(
      /^Invalid configuration: config file .* is not a JSON object/,
    );
    for (const message of [fail({ PORT: 'x' }), fail({ CALMHUB_CONFIG: file })])
      expect(message).not.toContain('\n');
  });
});
