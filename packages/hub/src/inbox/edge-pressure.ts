import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '@calmhub/platform';

/**
 * Above this many deliveries a second (the current and the previous one), the webhook edge is
 * under a heavy burst: processing then waits longer to coalesce (see ingest-delivery) and takes
 * a bounded share of the event loop (see ProcessingGate).
 */
export const HEAVY_BURST_PER_SECOND = 500;

/**
 * Under a burst (more than BURST_PER_SECOND deliveries in the last second), processing of an item
 * starts COALESCE_MS after its delivery was received, and the deliveries about it arriving
 * meanwhile join that job (SQLite, see processDeliveryJob): one read of the item from Cloud ALM for
 * all of them, instead of a read per delivery competing with the edge for the store and the event
 * loop. A lone delivery is processed at once. Under a heavy burst processing waits longer: every
 * job then settles more deliveries with its one read.
 */
const BURST_PER_SECOND = 20;
const COALESCE_MS = 200;
const HEAVY_COALESCE_MS = 1000;

/** How long processing waits to coalesce deliveries at this rate (deliveries per second). */
export function processingDelayMs(rate: number): number {
  return rate > HEAVY_BURST_PER_SECOND ? HEAVY_COALESCE_MS : rate > BURST_PER_SECOND ? COALESCE_MS : 0;
}

/** Deliveries received in the current and the previous second: a cheap rate, per store. */
class DeliveryRate {
  private second = 0;
  private thisSecond = 0;
  private lastSecond = 0;
  /** When the current heavy burst began (performance.now()); undefined when there is none. */
  private heavySince: number | undefined;

  /** Counts `count` deliveries received now; returns the rate including them. */
  add(count: number): number {
    this.roll();
    // A burst after a quiet spell is a new one, even when nothing asked for the rate meanwhile.
    if (this.thisSecond + this.lastSecond <= HEAVY_BURST_PER_SECOND) this.heavySince = undefined;
    this.thisSecond += count;
    const rate = this.thisSecond + this.lastSecond;
    if (rate > HEAVY_BURST_PER_SECOND) this.heavySince ??= performance.now();
    return rate;
  }

  current(): number {
    this.roll();
    const rate = this.thisSecond + this.lastSecond;
    if (rate <= HEAVY_BURST_PER_SECOND) this.heavySince = undefined;
    return rate;
  }

  /** How long the current heavy burst has lasted (ms); 0 when there is none. */
  heavyFor(): number {
    return this.current() > HEAVY_BURST_PER_SECOND && this.heavySince !== undefined
      ? performance.now() - this.heavySince
      : 0;
  }

  private roll(): void {
    const second = Math.floor(Date.now() / 1000);
    if (second === this.second) return;
    this.lastSecond = second === this.second + 1 ? this.thisSecond : 0;
    this.thisSecond = 0;
    this.second = second;
  }
}

/** How often processing held back by a heavy burst looks whether it is over. */
const BURST_LOOK_MS = 100;

/** What the gate's callers are configured with. */
type GateConfig = Pick<Config, 'webhookBurstProcessingShare' | 'webhookBurstProcessingDelayMs'>;

/**
 * Processing turns, one at a time while the edge is under a heavy burst: processing first waits
 * for the burst to end (at most `webhookBurstProcessingDelayMs`), then after each turn the next
 * waits so that processing stays within its share of the time (`webhookBurstProcessingShare`).
 * The edge's answer is what Cloud ALM waits for (and times out on); processing is what the inbox
 * is for, and catches up once the burst is over. Its work under a burst also cost the edge
 * beyond its share: garbage collection of what it kept across its reads of Cloud ALM.
 */
class ProcessingGate {
  private tail: Promise<unknown> = Promise.resolve();
  private nextAt = 0;

  constructor(private readonly rate: DeliveryRate) {}

  private underBurst(): boolean {
    return this.rate.current() > HEAVY_BURST_PER_SECOND;
  }

  run<T>(work: () => Promise<T>, config: GateConfig): Promise<T> {
    const share = config.webhookBurstProcessingShare;
    if (!this.underBurst() && this.nextAt <= performance.now()) return this.timed(work, share);
    const turn = this.tail.then(async () => {
      for (
        let heavyFor = this.rate.heavyFor();
        heavyFor > 0 && heavyFor < config.webhookBurstProcessingDelayMs;
      ) {
        await sleep(BURST_LOOK_MS);
        heavyFor = this.rate.heavyFor();
      }
      const wait = this.nextAt - performance.now();
      await (wait > 0 ? sleep(wait) : nextTurn());
      return this.timed(work, share);
    });
    this.tail = turn.catch(() => undefined);
    return turn;
  }

  private async timed<T>(work: () => Promise<T>, share: number): Promise<T> {
    const started = performance.now();
    try {
      return await work();
    } finally {
      const now = performance.now();
      this.nextAt = this.underBurst() ? now + (now - started) * (1 / share - 1) : 0;
    }
  }
}

interface EdgePressure {
  rate: DeliveryRate;
  gate: ProcessingGate;
}

/** One per store: a hub process has one; tests start several hubs in one process. */
const pressures = new WeakMap<object, EdgePressure>();

export function edgePressure(db: object): EdgePressure {
  let pressure = pressures.get(db);
  if (!pressure) {
    const rate = new DeliveryRate();
    pressure = { rate, gate: new ProcessingGate(rate) };
    pressures.set(db, pressure);
  }
  return pressure;
}
