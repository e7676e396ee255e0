// Long-running commands (boot-fake-node, later chain) run until the user stops them: the first
// SIGINT/SIGTERM (or a stop the program asks for itself) starts a clean shutdown; a second
// signal while shutting down exits at once, so a stuck stop never traps the user.

export type StopReason = NodeJS.Signals | 'requested';

export interface ShutdownTrigger {
  /** Resolves with the first reason to stop. */
  readonly reason: Promise<StopReason>;
  /** Ask to stop from inside the program (e.g. the node's terminal got Ctrl-C or end of input). */
  request(): void;
  /** Remove the signal handlers. */
  dispose(): void;
}

export function shutdownTrigger(
  opts: { signals?: NodeJS.Signals[]; onForce?: (signal: NodeJS.Signals) => void } = {},
): ShutdownTrigger {
  const signals = opts.signals ?? ['SIGINT', 'SIGTERM'];
  let fired = false;
  let resolveReason!: (r: StopReason) => void;
  const reason = new Promise<StopReason>((r) => {
    resolveReason = r;
  });
  const fire = (r: StopReason) => {
    if (fired) return;
    fired = true;
    resolveReason(r);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (!fired) return fire(signal);
    // While stopping, a SIGPIPE is a pipe to a child that the first signal already ended, not
    // a user asking twice: the clean-up goes on.
    if (signal === 'SIGPIPE') return;
    if (opts.onForce) opts.onForce(signal);
    else {
      process.stderr.write(`\ngot ${signal} again while stopping: exiting now, without finishing the clean-up\n`);
      process.exit(130);
    }
  };
  for (const s of signals) process.on(s, onSignal);
  return {
    reason,
    request: () => fire('requested'),
    dispose: () => {
      for (const s of signals) process.off(s, onSignal);
    },
  };
}
