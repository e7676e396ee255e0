// Running a component's `init` in the calling thread, with a Link in place of the kernel: no
// worker, no routing. The benchmarks use it to time a guest's own work, and tests use it to look
// at a guest's memory from outside.

import { join } from 'node:path';
import { KIT_CACHE } from '../../core/cache.js';
import { createLogger } from '../../core/log.js';
import type { Address } from '../../core/types.js';
import { ArgReclaimer, layoutRegistry, newLayoutRegistry, useLayoutRegistry } from './arg-reclaim.js';
import { instantiateComponent, loadGlue } from './component.js';
import { GuestApi, type Link } from './guest.js';
import { ComponentHost } from './host.js';
import { createWasiLite } from './wasi.js';
import type { WasmMemory } from './wasm-api.js';

/** Thrown by a Link to end the run: a guest cannot be entered again once an exception unwound it. */
export class StopGuest extends Error {}

export interface InThreadRun {
  /** The core memories the component exported (the guest's heap is the largest). */
  memories: WasmMemory[];
  reclaimer: ArgReclaimer;
}

/** Runs `init` until it returns or the link throws StopGuest; other errors propagate. */
export async function runInThread(
  wasm: Uint8Array,
  our: Address,
  link: Link,
  opts: { reclaim?: boolean; memories?: WasmMemory[]; freshLayouts?: boolean } = {},
): Promise<InThreadRun> {
  const quiet = createLogger({ target: 'in-thread', level: 'error', file: null, terminal: null });
  const host = new ComponentHost({ cacheDir: join(KIT_CACHE, 'components'), log: quiet, warmWorkers: 0 });
  const { transpiled, glueCachePath, modules, images } = await host.prepare(wasm);
  await host.close();
  const { glue } = loadGlue(transpiled.gluePath, glueCachePath);
  const wasi = transpiled.wasi === 'lite' ? createWasiLite({ onStdoutLine: () => {} }).imports : {};
  // freshLayouts: forget what other runs in this thread learnt about the engine's memory layout
  if (opts.freshLayouts) useLayoutRegistry(newLayoutRegistry());
  else layoutRegistry();
  const reclaimer = new ArgReclaimer();
  // the caller may pass the array to look at the guest's memories while init runs
  const memories: WasmMemory[] = opts.memories ?? [];
  const api = new GuestApi(link, our, (returnsResult) => {
    if (opts.reclaim !== false) reclaimer.reclaim(returnsResult);
  });
  const root = instantiateComponent(glue, modules, api.imports(), wasi, memories, reclaimer, images);
  try {
    root.init(`${our.node}@${our.process.processName}:${our.process.packageName}:${our.process.publisherNode}`);
  } catch (e) {
    if (!(e instanceof StopGuest)) throw e;
  }
  return { memories, reclaimer };
}
