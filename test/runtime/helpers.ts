// What the module tests share: a kernel with no component runner, its state on disk in `home`,
// that runtime modules and native test processes are registered on.

import { Kernel } from '../../src/runtime/kernel/kernel.js';
import { createLogger } from '../../src/core/log.js';
import { FileStateStore } from '../../src/runtime/modules/state.js';

export function bareKernel(our: string, home: string): Kernel {
  return new Kernel({
    our,
    home,
    log: createLogger({ terminal: null, file: null }),
    runner: { start: () => Promise.reject(new Error('no components here')) },
    state: new FileStateStore(home),
    readWasm: async () => undefined,
  });
}
