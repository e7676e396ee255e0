// Restart back-off for OnExit::Restart, as Hyperdrive's process loop keeps it
// (hyperdrive/src/kernel/process.rs): the first run already counts as attempt 1 with a 1 s
// back-off. At an exit, a run that lasted 5x the current back-off (at most 50 min) was healthy:
// the count resets to 1 and the restart is immediate; otherwise the count goes up and the restart
// waits 2^(attempts-1) s, at most 10 min. So a process that crashes within 5 s of its first start
// restarts after 2 s, then 4 s, 8 s ...

const BASE_MS = 1000;
const MAX_MS = 600_000;
const MAX_HEALTHY_MS = 50 * 60_000;
const HEALTHY_RUN_MULTIPLIER = 5;

export class RestartBackoff {
  /** 0 until the first run starts. */
  private attempts = 0;
  private backoffMs = BASE_MS;
  private startedAt = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** Call when the process starts running. */
  started(): void {
    if (this.attempts === 0) {
      this.attempts = 1;
      this.backoffMs = BASE_MS;
    }
    this.startedAt = this.now();
  }

  /** Call when it exited: how long to wait before starting it again (0: at once). */
  nextDelayMs(): number {
    const ran = this.now() - this.startedAt;
    const healthy = Math.min(this.backoffMs * HEALTHY_RUN_MULTIPLIER, MAX_HEALTHY_MS);
    if (ran >= healthy) {
      this.attempts = 1;
      this.backoffMs = BASE_MS;
    } else {
      this.attempts += 1;
      this.backoffMs = Math.min(Math.max(BASE_MS * 2 ** Math.min(this.attempts - 1, 30), BASE_MS), MAX_MS);
    }
    return this.attempts === 1 ? 0 : this.backoffMs;
  }
}
