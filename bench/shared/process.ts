/** What the bench scripts share: JSON over HTTP, child processes read line by line, percentiles. */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { request } from 'undici';

/** Node flags that run a workspace's TypeScript sources. */
export const tsxArgs = ['--conditions=calmhub-source', '--import', 'tsx'];
/** Every process a bench spawned, to stop at the end. */
export const children: ChildProcess[] = [];

export async function json<T = unknown>(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: unknown } = {},
): Promise<T> {
  const response = await request(url, {
    method: (init.method ?? 'GET') as 'GET',
    headers: {
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(init.headers ?? {}),
    },
    ...(init.body === undefined
      ? {}
      : { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }),
  });
  const text = await response.body.text();
  if (response.statusCode >= 300)
    throw new Error(`${init.method ?? 'GET'} ${url}: ${response.statusCode} ${text.slice(0, 300)}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

export /** Spawns a process; every stdout line goes to `onLine`; resolves with the first line `pattern` matches. */
function spawnLines(
  args: string[],
  env: Record<string, string>,
  pattern: RegExp,
  timeoutSeconds: number,
  onLine: (line: string) => void = () => {},
): { child: ChildProcess; match: Promise<RegExpExecArray> } {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const match = new Promise<RegExpExecArray>((resolve, reject) => {
    let found = false;
    const timer = setTimeout(() => {
      if (found) return;
      reject(new Error(`${args.at(-1)}: no answer within ${timeoutSeconds} s`));
      child.kill('SIGTERM');
    }, timeoutSeconds * 1000);
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      if (process.env.BENCH_HUB_LOG) process.stderr.write(`${line}\n`);
      if (!found) {
        const m = pattern.exec(line);
        if (m) {
          found = true;
          clearTimeout(timer);
          resolve(m);
          return;
        }
      }
      onLine(line);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (!found) reject(new Error(`${args.at(-1)} exited ${code}`));
    });
  });
  return { child, match };
}

/** Nearest-rank percentile of an ascending array. */
export const percentile = (sorted: number[], p: number) =>
  sorted.length === 0
    ? Number.NaN
    : (sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number);
