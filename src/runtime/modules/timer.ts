// timer:distro:sys, as Hyperdrive's (hyperdrive/src/timer.rs): `{"SetTimer": <ms>}` (a u64) is
// answered with an empty Response after that many milliseconds (0 answers at once), however long
// that is: Node's setTimeout stops at 2^31-1 ms (about 24.8 days), so longer timers wait in steps.
// `"Debug"` prints every pending timer on the node's terminal: who set it, when it pops and how
// long is left, and whether the setter awaits the Response. A request that is not a TimerAction
// is ignored, as Hyperdrive ignores it (the setter would time out there too), with a line on the
// terminal saying what to send instead. Beyond Hyperdrive, one process may have at most
// `timersPerProcess` timers pending (each costs memory); over that, a request that awaits a
// Response gets `{"Err": why}` at once (never empty, so it cannot be taken for a pop). Public,
// local only.

import { isU64, parseJsonExact } from '../../core/json.js';
import { addressToString, fromUtf8, type KernelMessage, processIdToString, systemProcess } from '../../core/types.js';
import type { KernelApi, NativeProcess } from '../kernel/api.js';
import { defaultQuotas, raiseWith } from '../quotas.js';

/** setTimeout's longest wait. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;
/** Past this a timer never pops in practice (the largest time a JS Date holds). */
const NEVER_MS = 8.64e15;

interface ActiveTimer {
  handle?: NodeJS.Timeout;
  setter: string;
  owner: string;
  ms: bigint;
  /** Wall-clock time it pops (Infinity: never in practice). */
  popAt: number;
  /** Seconds the setter waits for the Response; undefined: it expects none. */
  awaitSecs: bigint | undefined;
}

export interface TimerModuleOptions {
  /** For tests: the clock behind the times Debug prints. */
  now?: () => number;
  /** For tests: the monotonic clock (ms) long timers measure what is left by; default performance.now. */
  monotonic?: () => number;
  /** Pending timers one process may have; default ../quotas.ts's (10,000: about 25 MB of timers). */
  timersPerProcess?: number;
}

export function createTimerModule(opts: TimerModuleOptions = {}): NativeProcess & { pending(): number } {
  let kernel: KernelApi;
  const now = opts.now ?? Date.now;
  const monotonic = opts.monotonic ?? (() => performance.now());
  const quota = opts.timersPerProcess ?? defaultQuotas().timersPerProcess;
  const id = systemProcess('timer');
  const timers = new Set<ActiveTimer>();
  const perProcess = new Map<string, number>();
  /** Processes told they are over the quota, until they are under it again (one terminal line each time). */
  const warned = new Set<string>();

  function describe(t: ActiveTimer, at: number): string {
    const when = Number.isFinite(t.popAt) ? `pops at ${new Date(t.popAt).toISOString()} (in ${Math.max(0, t.popAt - at)} ms)` : 'never pops in practice';
    const waits =
      t.awaitSecs === undefined
        ? 'the setter expects no Response (the pop goes nowhere)'
        : t.awaitSecs * 1000n < t.ms
          ? `the setter awaits the Response but gives up after ${t.awaitSecs} s, before it pops`
          : `the setter awaits the Response (timeout ${t.awaitSecs} s)`;
    return `  ${t.setter}: ${t.ms} ms timer ${when}; ${waits}`;
  }

  function debug(): void {
    const at = now();
    const list = [...timers].sort((a, b) => a.popAt - b.popAt);
    const head = `timer: ${list.length} pending timer${list.length === 1 ? '' : 's'}`;
    kernel.print(0, list.length === 0 ? head : `${head}:\n${list.map((t) => describe(t, at)).join('\n')}`);
  }

  function forget(t: ActiveTimer): void {
    timers.delete(t);
    const left = (perProcess.get(t.owner) ?? 1) - 1;
    if (left > 0) perProcess.set(t.owner, left);
    else perProcess.delete(t.owner);
    if (left < quota) warned.delete(t.owner);
  }

  /** Wait `ms` in steps setTimeout can take, then answer. */
  function arm(t: ActiveTimer, km: KernelMessage, dueMono: number): void {
    const left = dueMono - monotonic();
    if (left > MAX_TIMEOUT_MS) {
      t.handle = setTimeout(() => arm(t, km, dueMono), MAX_TIMEOUT_MS);
      return;
    }
    t.handle = setTimeout(
      () => {
        forget(t);
        kernel.respond(id, km, new Uint8Array());
      },
      Math.max(0, left),
    );
  }

  function setTimer(km: KernelMessage, ms: bigint, awaitSecs: bigint | undefined): void {
    if (ms === 0n) {
      kernel.respond(id, km, new Uint8Array());
      return;
    }
    const owner = processIdToString(km.source.process);
    const count = perProcess.get(owner) ?? 0;
    if (count >= quota) {
      const why = `${owner} already has ${count} pending timers, the most this node allows one process (${raiseWith('timersPerProcess')} raises it); wait for some to pop`;
      if (!warned.has(owner)) {
        warned.add(owner);
        kernel.print(0, `timer: ${why}. Further requests over the limit are refused.`);
      }
      if (awaitSecs !== undefined) kernel.respond(id, km, JSON.stringify({ Err: why }));
      return;
    }
    perProcess.set(owner, count + 1);
    const never = ms > BigInt(NEVER_MS);
    const t: ActiveTimer = {
      setter: addressToString(km.source),
      owner,
      ms,
      popAt: never ? Number.POSITIVE_INFINITY : now() + Number(ms),
      awaitSecs,
    };
    timers.add(t);
    if (!never) arm(t, km, monotonic() + Number(ms));
  }

  return {
    id,
    isPublic: true,
    start(k) {
      kernel = k;
    },
    pending: () => timers.size,
    handle(km: KernelMessage) {
      if (km.message.tag !== 'request' || km.source.node !== kernel.our) return;
      const text = fromUtf8(km.message.val.body);
      let action: unknown;
      try {
        action = parseJsonExact(text);
      } catch {
        action = undefined;
      }
      if (action === 'Debug' || (action && typeof action === 'object' && 'Debug' in action && (action as { Debug: unknown }).Debug === null)) {
        debug();
        return;
      }
      const ms = (action as { SetTimer?: unknown } | null)?.SetTimer;
      if (!action || typeof action !== 'object' || Object.keys(action).length !== 1 || !isU64(ms)) {
        const shown = text.length > 120 ? `${text.slice(0, 120)}...` : text;
        kernel.print(
          0,
          `timer: ignored a request from ${addressToString(km.source)} that is not a TimerAction (${JSON.stringify(shown)}): send {"SetTimer": <whole milliseconds, 0 or more>} or "Debug"`,
        );
        return;
      }
      setTimer(km, BigInt(ms), km.message.val.expectsResponse);
    },
    stop() {
      for (const t of timers) clearTimeout(t.handle);
      timers.clear();
      perProcess.clear();
    },
  };
}
