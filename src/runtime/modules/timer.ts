// timer:distro:sys — `{"SetTimer": <ms>}` answers with an empty Response after that many
// milliseconds (0 answers at once); `"Debug"` prints the pending timers. Public, local only.

import type { KernelApi, NativeProcess } from '../kernel/api.js';
import { fromUtf8, type KernelMessage, systemProcess } from '../types.js';

export function createTimerModule(): NativeProcess & { pending(): number } {
  let kernel: KernelApi;
  const id = systemProcess('timer');
  const timers = new Set<NodeJS.Timeout>();
  return {
    id,
    isPublic: true,
    start(k) {
      kernel = k;
    },
    pending: () => timers.size,
    handle(km: KernelMessage) {
      if (km.message.tag !== 'request' || km.source.node !== kernel.our) return;
      let action: unknown;
      try {
        action = JSON.parse(fromUtf8(km.message.val.body));
      } catch {
        kernel.print(1, `timer: ignoring a request from ${km.source.process.processName} that is not JSON`);
        return;
      }
      if (action === 'Debug') {
        kernel.print(0, `timer: ${timers.size} pending`);
        return;
      }
      const ms = (action as { SetTimer?: unknown })?.SetTimer;
      if (typeof ms !== 'number' || ms < 0) {
        kernel.print(1, 'timer: expected {"SetTimer": <milliseconds>}');
        return;
      }
      if (ms === 0) {
        kernel.respond(id, km, new Uint8Array());
        return;
      }
      const t = setTimeout(() => {
        timers.delete(t);
        kernel.respond(id, km, new Uint8Array());
      }, ms);
      timers.add(t);
    },
    stop() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  };
}
