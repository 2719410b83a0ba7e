import { isDeepStrictEqual } from 'node:util';
import {
  calmhubEvaluate,
  createJsonataEvaluate,
  loadServiceNowMapping,
  sampleMessage,
} from './servicenow-workload.js';

const EVALUATIONS = 100_000;
const WARMUP_SECONDS = 1;
const ROUNDS = 3;
const INPUT_VARIANTS = 64;

const mapping = loadServiceNowMapping();
const jsonataEvaluate = createJsonataEvaluate();
const messages = Array.from({ length: INPUT_VARIANTS }, (_, index) => sampleMessage(index));

for (const message of messages) {
  const ours = calmhubEvaluate(mapping, message);
  const theirs = await jsonataEvaluate(message);
  if (!isDeepStrictEqual(JSON.parse(JSON.stringify(ours)), JSON.parse(JSON.stringify(theirs)))) {
    throw new Error(
      `outputs differ for ${JSON.stringify(message)}:\n${JSON.stringify(ours)}\n${JSON.stringify(theirs)}`,
    );
  }
}

// Keeps results observable so the JIT cannot drop the work.
let sink = 0;

function timeCalmhub(count: number): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    const result = calmhubEvaluate(mapping, messages[i % INPUT_VARIANTS]!) as { body: object };
    if (result.body) sink++;
  }
  return Number(process.hrtime.bigint() - start) / 1e9;
}

async function timeJsonata(count: number): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    const result = (await jsonataEvaluate(messages[i % INPUT_VARIANTS]!)) as { body: object };
    if (result.body) sink++;
  }
  return Number(process.hrtime.bigint() - start) / 1e9;
}

// Both engines run for the same wall-clock time first so that each is measured JIT-compiled.
async function warmUp(run: (count: number) => number | Promise<number>): Promise<void> {
  let elapsed = 0;
  let batch = 1_000;
  while (elapsed < WARMUP_SECONDS) {
    elapsed += await run(batch);
    batch *= 2;
  }
}

await warmUp(timeCalmhub);
await warmUp(timeJsonata);

// Rounds alternate between the engines so that both see the same machine conditions; the calmhub half of
// a round lasts only tens of milliseconds, so one unlucky pause would otherwise decide the ratio.
const calmhubRates: number[] = [];
const jsonataRates: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  calmhubRates.push(EVALUATIONS / timeCalmhub(EVALUATIONS));
  jsonataRates.push(EVALUATIONS / (await timeJsonata(EVALUATIONS)));
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const calmhubRate = median(calmhubRates);
const jsonataRate = median(jsonataRates);
const ratio = calmhubRate / jsonataRate;
const format = (rate: number) => Math.round(rate).toLocaleString('en-US').padStart(12);
const perRound = calmhubRates.map((rate, index) => `${(rate / jsonataRates[index]!).toFixed(0)}x`).join(', ');

process.stdout.write(
  [
    'mapping benchmark: event situation → ServiceNow incident (EVENT-SITUATION.CREATED)',
    `${EVALUATIONS.toLocaleString('en-US')} evaluations per engine and round, ${ROUNDS} interleaved rounds, median shown;`,
    `outputs checked identical on ${INPUT_VARIANTS} inputs first`,
    '',
    'engine     evaluations/s',
    `calmhub    ${format(calmhubRate)}`,
    `jsonata    ${format(jsonataRate)}`,
    '',
    `ratio (calmhub / jsonata): ${ratio.toFixed(1)}x${ratio >= 100 ? '' : '   BELOW THE 100x GOAL'}   (per round: ${perRound})`,
    `(checksum ${sink})`,
    '',
  ].join('\n'),
);
