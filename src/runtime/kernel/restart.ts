// Restart back-off for OnExit::Restart, as Hyperdrive does it: the first restart is immediate,
// then 1 s doubling to a 10 min cap; a run that lasted 5x the current back-off (at most 50 min)
// counts as healthy and resets the count.

const BASE_MS = 1000;
const MAX_MS = 600_000;
const MAX_HEALTHY_MS = 50 * 60_000;

export class RestartBackoff {
  private attempts = 0;
  private backoffMs = BASE_MS;
  private startedAt = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** Call when the process starts running. */
  started(): void {
    this.startedAt = this.now();
  }

  /** Call when it exited: how long to wait before starting it again. */
  nextDelayMs(): number {
    const ran = this.now() - this.startedAt;
    const healthy = Math.min(this.backoffMs * 5, MAX_HEALTHY_MS);
    if (this.attempts === 0 || ran >= healthy) {
      this.attempts = 1;
      this.backoffMs = BASE_MS;
    } else {
      this.attempts += 1;
      this.backoffMs = Math.min(BASE_MS * 2 ** (this.attempts - 1), MAX_MS);
    }
    return this.attempts === 1 ? 0 : this.backoffMs;
  }
}
