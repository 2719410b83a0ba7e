import { runCli } from '../run-cli.js';

/** Runs `calmhub …` in this process and returns its exit code and what it printed. */
export async function calmhub(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(args, {
    stdout: { write: (text: string) => (out += text) },
    stderr: { write: (text: string) => (err += text) },
  });
  return { code, out, err };
}
