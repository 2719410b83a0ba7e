import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';

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

  /** Counts `count` deliveries received now; returns the rate including them. */
  add(count: number): number {
    this.roll();
    this.thisSecond += count;
    return this.thisSecond + this.lastSecond;
  }

  current(): number {
    this.roll();
    return this.thisSecond + this.lastSecond;
  }

  private roll(): void {
    const second = Math.floor(Date.now() / 1000);
    if (second === this.second) return;
    this.lastSecond = second === this.second + 1 ? this.thisSecond : 0;
    this.thisSecond = 0;
    this.second = second;
  }
}

/**
 * Processing turns, one at a time while the edge is under a heavy burst: after each turn the
 * next waits so that processing stays within its share of the time (config
 * `webhookBurstProcessingShare`). The edge's answer is what Cloud ALM waits for (and times out
 * on); processing is what the inbox is for, and catches up once the burst is over.
 */
class ProcessingGate {
  private tail: Promise<unknown> = Promise.resolve();
  private nextAt = 0;

  constructor(private readonly rate: DeliveryRate) {}

  private underBurst(): boolean {
    return this.rate.current() > HEAVY_BURST_PER_SECOND;
  }

  run<T>(work: () => Promise<T>, share: number): Promise<T> {
    if (!this.underBurst() && this.nextAt <= performance.now()) return this.timed(work, share);
    const turn = this.tail.then(async () => {
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
