/**
 * Keeps the hub a polite client of each remote host: at most `maxConcurrent` calls in flight and a
 * token bucket of `ratePerSecond` (bursts up to one second's worth). Calls wait in FIFO order.
 * `Retry-After` is not handled here: a throttled job is rescheduled, it does not wait in memory.
 */
export interface HostLimits {
  maxConcurrent: number;
  ratePerSecond: number;
}

interface HostState {
  active: number;
  tokens: number;
  refilledAt: number;
  waiting: Array<() => void>;
  timer: NodeJS.Timeout | undefined;
}

export class HostLimiter {
  private readonly hosts = new Map<string, HostState>();

  constructor(
    private readonly limits: HostLimits,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Waits for a slot and a token for `host`; call the returned function when the call is done. */
  async acquire(host: string): Promise<() => void> {
    const state = this.state(host);
    await new Promise<void>((resolve) => {
      state.waiting.push(resolve);
      this.pump(host, state);
    });
    let released = false;
    return () => {
      if (released) return;
      released = true;
      state.active--;
      this.pump(host, state);
    };
  }

  private state(host: string): HostState {
    let state = this.hosts.get(host);
    if (!state) {
      state = {
        active: 0,
        tokens: this.limits.ratePerSecond,
        refilledAt: this.now(),
        waiting: [],
        timer: undefined,
      };
      this.hosts.set(host, state);
    }
    return state;
  }

  private pump(host: string, state: HostState): void {
    const now = this.now();
    const capacity = this.limits.ratePerSecond;
    state.tokens = Math.min(capacity, state.tokens + ((now - state.refilledAt) / 1000) * capacity);
    state.refilledAt = now;
    while (state.waiting.length > 0 && state.active < this.limits.maxConcurrent && state.tokens >= 1) {
      state.tokens -= 1;
      state.active++;
      (state.waiting.shift() as () => void)();
    }
    if (state.waiting.length > 0 && state.active < this.limits.maxConcurrent && state.timer === undefined) {
      const waitMs = Math.ceil(((1 - state.tokens) / capacity) * 1000);
      state.timer = setTimeout(() => {
        state.timer = undefined;
        this.pump(host, state);
      }, waitMs);
      state.timer.unref();
    }
  }
}
