// Instantiating a transpiled component in the current thread: the jco glue (a classic script
// with V8's code cache), the compiled core modules, and the import objects. The process worker
// uses this for every process; the benchmarks use it to run a guest with no kernel at all.

import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { Script } from 'node:vm';
import { threadId } from 'node:worker_threads';
import type { ArgReclaimer } from './arg-reclaim.js';
import { applyMemoryImage, type MemoryImage } from './memory-image.js';
import { Wasm, type WasmImports, type WasmInstance, type WasmMemory, type WasmModule } from './wasm-api.js';

// jco's sync glue still probes JSPI with `try { WebAssembly.promising(f) } catch {}`. Node 20 has
// no `promising`, and each of those TypeErrors costs ~8 ms (V8 re-parses the glue's huge init
// function to word the message): 25 ms of every start. The async wrappers are never used in
// sync mode, so an identity function is a faithful stand-in.
const wasmGlobal = (globalThis as unknown as { WebAssembly: { promising?: unknown } }).WebAssembly;
if (typeof wasmGlobal.promising !== 'function') wasmGlobal.promising = (f: unknown) => f;

interface Glue {
  instantiate(
    getCoreModule: (name: string) => WasmModule,
    imports: Record<string, unknown>,
    instantiateCore?: (module: WasmModule, imports: WasmImports) => WasmInstance,
  ): ComponentRoot;
}

/** The world's export: `init` runs the process until it returns or traps. */
export interface ComponentRoot {
  init(our: string): void;
}

export interface LoadedGlue {
  glue: Glue;
  script: Script;
  /** Whether V8 accepted a code cache from disk. */
  cached: boolean;
}

/** Loads the glue script, with V8's code cache when there is a valid one. */
export function loadGlue(gluePath: string, glueCachePath: string): LoadedGlue {
  const source = readFileSync(gluePath, 'utf8');
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(glueCachePath);
  } catch {
    // first run of this component on this machine
  }
  const script = new Script(source, { filename: gluePath, cachedData });
  const glue = (script.runInThisContext() as () => Glue)();
  return { glue, script, cached: cachedData !== undefined && !script.cachedDataRejected };
}

/** Saves the code cache once the glue's functions have been compiled by a first instantiation. */
export function saveCodeCache(script: Script, path: string): void {
  try {
    const tmp = `${path}.${process.pid}.${threadId}.tmp`;
    writeFileSync(tmp, script.createCachedData());
    renameSync(tmp, path);
  } catch {
    // only a speed-up; the next run will try again
  }
}

/**
 * Instantiates the component with `standard` as `hyperware:process/standard` and `wasi` as the
 * WASI imports. Memories the core instances export are pushed to `memories` (to tell a memory
 * exit from other traps). A `reclaimer` gets to free the guest's import arguments mid-`init`.
 * `images` are the memory images split off `modules` (by the same names), written into each
 * instance as soon as it exists, before any of its code runs.
 */
export function instantiateComponent(
  glue: Glue,
  modules: Record<string, WasmModule>,
  standard: Record<string, unknown>,
  wasi: Record<string, unknown>,
  memories: WasmMemory[] = [],
  reclaimer?: ArgReclaimer,
  images: Record<string, MemoryImage> = {},
): ComponentRoot {
  const imageOf = new Map<WasmModule, MemoryImage>();
  for (const [name, image] of Object.entries(images)) if (modules[name]) imageOf.set(modules[name], image);
  return glue.instantiate(
    (name) => {
      const m = modules[name];
      if (!m) throw new Error(`the glue asked for core module ${name}, which the host did not send`);
      return m;
    },
    {
      'hyperware:process/standard': standard,
      'hyperware:process/standard@1.0.0': standard,
      ...wasi,
    },
    (module, imports) => {
      const instance = new Wasm.Instance(module, imports);
      const image = imageOf.get(module);
      if (image) applyMemoryImage(instance.exports, image);
      for (const v of Object.values(instance.exports)) if (v instanceof Wasm.Memory) memories.push(v);
      return reclaimer ? reclaimer.adopt(module, instance) : instance;
    },
  );
}
