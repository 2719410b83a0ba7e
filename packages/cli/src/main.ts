#!/usr/bin/env node
import { describeStartFailure } from '@calmhub/platform';
import { runCli } from './run-cli.js';

const argv = process.argv.slice(2);
try {
  process.exitCode = await runCli(argv, { stdout: process.stdout, stderr: process.stderr });
} catch (error) {
  // Whatever stopped a command from starting (a port in use, an unreachable database, ...) is
  // one line for the operator, not a stack trace. Exit at once: a half-started server may hold
  // timers and connections open.
  const command = argv[0] && !argv[0].startsWith('-') ? ` ${argv[0]}` : '';
  process.exitCode = 1;
  process.stderr.write(`calmhub${command}: ${describeStartFailure(error)}\n`, () => process.exit(1));
}
