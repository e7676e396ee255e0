// Node 20 has the WebAssembly global, but this project's TypeScript libs (ES2023, no DOM) do not
// describe it. These are the few parts the process host uses.

import { setFlagsFromString } from 'node:v8';

/** A compiled core module; V8 shares its code with every worker it is posted to. */
export interface WasmModule {
  readonly __wasmModule?: never;
}

export interface WasmMemory {
  readonly buffer: ArrayBuffer;
}

export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}

export type WasmImports = Record<string, Record<string, unknown>>;

interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports?: WasmImports) => WasmInstance;
  Memory: new (descriptor: { initial: number; maximum?: number }) => WasmMemory;
  RuntimeError: new (message?: string) => Error;
  compile(bytes: Uint8Array): Promise<WasmModule>;
}

export const Wasm: WasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

let optimizing = false;

/**
 * Makes V8 compile each Wasm function with its optimizing tier (TurboFan) on first call, skipping
 * the baseline tier (Liftoff). Call before compiling a process's modules; it holds for the whole
 * Node process (V8 reads the flag again at every lazy compile, so it cannot be turned back off).
 *
 * Why: a process's `init` never returns (it loops on `receive()`), and V8 11 cannot replace a
 * running Wasm frame with optimized code (no on-stack replacement). Every function that is on the
 * stack below that loop - for a JS component, SpiderMonkey's interpreter, which then runs every
 * line of the guest - would run its Liftoff code for the process's whole life, although V8 tiers
 * it up in the background. Measured on the local round trip of two JS components: 730-830 us
 * per round trip with Liftoff first, 360-420 us with TurboFan; it costs ~0.4 s of compiling on a
 * component's first message (once per distinct component per node).
 */
export function compileOptimizedFromFirstCall(): void {
  if (optimizing) return;
  setFlagsFromString('--no-liftoff');
  optimizing = true;
}
