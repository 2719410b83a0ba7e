/**
 * The load generator for `bench:webhook`, run as its own process so it shares no event loop with
 * the servers it measures (nor with the sandbox in the bench process). Reads its settings as JSON
 * from BENCH_LOAD, runs a warm-up then the measured run with autocannon, writes the ids of every
 * acknowledged (202) delivery to `idsFile` and prints one JSON line with the figures.
 */
import { writeFileSync } from 'node:fs';
import autocannon from 'autocannon';

export interface LoadSettings {
  url: string;
  connections: number;
  pipelining: number;
  durationSeconds: number;
  warmupSeconds: number;
  featureIds: string[];
  /** Makes webhook-id and modifiedAt unique across runs. */
  runTag: string;
  idsFile: string;
  /** Requests per second over all connections (autocannon `overallRate`); saturation when absent. */
  overallRate?: number;
  /** Where to write every 2xx latency of the measured run (ms, JSON), to combine runs exactly. */
  latenciesFile?: string;
}

export interface LoadResult {
  requestsPerSecond: number;
  requests: number;
  durationSeconds: number;
  statusCodes: Record<string, number>;
  errors: number;
  timeouts: number;
  /** Latency of the measured run's 2xx answers, in ms (exact, from every response). */
  latency: { p50: number; p99: number; max: number; mean: number };
  /** 202s over warm-up and measured run: every one should be in the inbox. */
  acknowledged: number;
  warmupRequests: number;
}

const settings = JSON.parse(process.env.BENCH_LOAD ?? '{}') as LoadSettings;
const epoch = Date.parse('2026-01-01T00:00:00.000Z');
let sequence = 0;
const acknowledgedIds: string[] = [];

function event(): { body: string; webhookId: string } {
  const n = sequence++;
  const uuid = settings.featureIds[n % settings.featureIds.length] as string;
  return {
    webhookId: `bench-${settings.runTag}-${n}`,
    body: JSON.stringify({
      subscriptionId: `bench-${settings.runTag}`,
      resourceType: 'FEATURE',
      eventType: 'FEATURE.UPDATED',
      resourceId: uuid,
      // One millisecond per event: every delivery is a distinct one.
      resource: { uuid, modifiedAt: new Date(epoch + n).toISOString() },
    }),
  };
}

function run(seconds: number, latencies: number[] | undefined): Promise<autocannon.Result> {
  let done: (error: Error | null, result: autocannon.Result) => void = () => {};
  const finished = new Promise<autocannon.Result>((resolve, reject) => {
    done = (error, result) => (error ? reject(error) : resolve(result));
  });
  const options: autocannon.Options = {
    url: settings.url,
    connections: settings.connections,
    pipelining: settings.pipelining,
    duration: seconds,
    timeout: 10,
    ...(settings.overallRate ? { overallRate: settings.overallRate } : {}),
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => {
          const { body, webhookId } = event();
          return {
            ...request,
            body,
            headers: { ...request.headers, 'content-type': 'application/json', 'webhook-id': webhookId },
          };
        },
        onResponse: (status, body) => {
          if (status === 202) acknowledgedIds.push((JSON.parse(body) as { id: string }).id);
        },
      },
    ],
  };
  const instance = autocannon(options, (error, result) => done(error, result));
  if (latencies)
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
    });
  return finished;
}

const percentile = (sorted: Float64Array, p: number) =>
  sorted.length === 0
    ? Number.NaN
    : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number);

const warmup = await run(settings.warmupSeconds, undefined);
const latencies: number[] = [];
const result = await run(settings.durationSeconds, latencies);
const sorted = Float64Array.from(latencies).sort();
const statusCodes = Object.fromEntries(
  Object.entries(result.statusCodeStats ?? {}).map(([code, stat]) => [code, stat.count ?? 0]),
);
writeFileSync(settings.idsFile, JSON.stringify(acknowledgedIds));
if (settings.latenciesFile) writeFileSync(settings.latenciesFile, JSON.stringify(latencies));
const out: LoadResult = {
  requestsPerSecond: result.requests.total / result.duration,
  requests: result.requests.total,
  durationSeconds: result.duration,
  statusCodes,
  errors: result.errors,
  timeouts: result.timeouts,
  latency: {
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.length ? (sorted[sorted.length - 1] as number) : Number.NaN,
    mean: latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length),
  },
  acknowledged: acknowledgedIds.length,
  warmupRequests: warmup.requests.total,
};
console.log(JSON.stringify(out));
