// timer:distro:sys — `{"SetTimer": <ms>}` answers with an empty Response after that many
// milliseconds (0 answers at once); `"Debug"` prints every active timer on the node's terminal:
// who set it, when it pops and how long is left, and whether the setter awaits the Response.
// Anything else (not JSON, a negative or fractional duration) sets no timer and, if the sender
// awaits a Response, is answered at once with `{"Err": "<why>"}`: never empty, so it cannot be
// taken for a pop, and the caller learns what was wrong instead of timing out (Hyperdrive only
// prints it). Public, local only.

import type { KernelApi, NativeProcess } from '../kernel/api.js';
import { addressToString, fromUtf8, type KernelMessage, systemProcess } from '../../core/types.js';

interface ActiveTimer {
  handle: NodeJS.Timeout;
  setter: string;
  ms: number;
  popAt: number;
  /** Seconds the setter waits for the Response; undefined: it expects none. */
  awaitSecs: bigint | undefined;
}

export interface TimerModuleOptions {
  /** For tests: the clock behind the times Debug prints. */
  now?: () => number;
}

export function createTimerModule(opts: TimerModuleOptions = {}): NativeProcess & { pending(): number } {
  let kernel: KernelApi;
  const now = opts.now ?? Date.now;
  const id = systemProcess('timer');
  const timers = new Set<ActiveTimer>();

  function describe(t: ActiveTimer, at: number): string {
    const left = Math.max(0, t.popAt - at);
    const waits =
      t.awaitSecs === undefined
        ? 'the setter expects no Response (the pop goes nowhere)'
        : Number(t.awaitSecs) * 1000 < t.ms
          ? `the setter awaits the Response but gives up after ${t.awaitSecs} s, before it pops`
          : `the setter awaits the Response (timeout ${t.awaitSecs} s)`;
    return `  ${t.setter}: ${t.ms} ms timer pops at ${new Date(t.popAt).toISOString()} (in ${left} ms); ${waits}`;
  }

  function debug(): void {
    const at = now();
    const list = [...timers].sort((a, b) => a.popAt - b.popAt);
    const head = `timer: ${list.length} pending timer${list.length === 1 ? '' : 's'}`;
    kernel.print(0, list.length === 0 ? head : `${head}:\n${list.map((t) => describe(t, at)).join('\n')}`);
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
      const refuse = (why: string) => {
        kernel.print(1, `timer: ${why} (from ${addressToString(km.source)})`);
        if (km.message.tag === 'request' && km.message.val.expectsResponse !== undefined) kernel.respond(id, km, JSON.stringify({ Err: why }));
      };
      let action: unknown;
      try {
        action = JSON.parse(fromUtf8(km.message.val.body));
      } catch {
        refuse('the request is not JSON: send {"SetTimer": <milliseconds>} or "Debug"');
        return;
      }
      if (action === 'Debug') {
        debug();
        return;
      }
      const ms = (action as { SetTimer?: unknown })?.SetTimer;
      if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 0) {
        refuse(`expected {"SetTimer": <whole milliseconds >= 0>} or "Debug", got ${JSON.stringify(action)}`);
        return;
      }
      if (ms === 0) {
        kernel.respond(id, km, new Uint8Array());
        return;
      }
      const setAt = now();
      const t: ActiveTimer = {
        // setTimeout cannot wait past 2^31-1 ms (about 24 days); such timers pop then.
        handle: setTimeout(() => {
          timers.delete(t);
          kernel.respond(id, km, new Uint8Array());
        }, Math.min(ms, 2 ** 31 - 1)),
        setter: addressToString(km.source),
        ms,
        popAt: setAt + ms,
        awaitSecs: km.message.val.expectsResponse,
      };
      timers.add(t);
    },
    stop() {
      for (const t of timers) clearTimeout(t.handle);
      timers.clear();
    },
  };
}
