/** A clock tests move by hand, so time-based behaviour is asserted without sleeping. */
export class FakeClock {
  constructor(public current = Date.UTC(2026, 10, 21, 12, 0, 0)) {}
  now = (): number => this.current;
  advance(ms: number): void {
    this.current += ms;
  }
}
