// Freeing what a componentize-js guest allocates for import arguments while `init` runs.
//
// componentize-js (0.23) records every `cabi_realloc` in a list that it frees only in the
// export's post-return (`cabi_post_init`). The guest's bindings allocate the arguments of each
// import call (strings of an Address, a body, a Request record) that way and never free them
// themselves, and the bindings' `dealloc` searches that list linearly. A Hyperware process never
// returns from `init`, so the list grows with every message: memory leaks, and each import call
// gets slower (measured: the bench pinger went 559 -> 700 -> 979 us per call over three batches
// of 10,000 calls; 50% of its time in one 42-byte linear-search loop).
//
// The host can run the post-return itself at the start of an import: by then jco's glue has
// copied the call's arguments out of guest memory, and the only entry still in use is the newest,
// the return area the guest allocated for this call (if it has one). So: take the newest entry
// off the list, run post-return (which frees the rest), and put it back. Post-return also sets the
// runtime's "current call" index to -1, after which the next post-return (ours, or the real one
// when `init` returns) would abort: put the old value back too. Where the list and that index
// live is found once per engine build, by comparing memory before and after a trial post-return
// and then putting the memory back as it was (a trial freed everything, the return area too, so
// it must not stand). Each reclaim checks what it finds; anything unexpected switches the
// reclaimer off and the guest runs on as componentize-js made it.

import type { WasmInstance, WasmMemory } from './wasm-api.js';
import { Wasm } from './wasm-api.js';

const MINUS_ONE = 0xffffffff;
/** Reclaim once this many entries have piled up: each post-return is a call into the guest. */
const BATCH = 16;
/** How far from the current-call index to look for the list (a field of the same struct). */
const NEAR_WORDS = 64;

interface Layout {
  /** Word index of the runtime's current-call field. */
  current: number;
  /** Word index of the list's begin pointer (its end pointer follows), or -1 if not found. */
  list: number;
}

// Layouts found so far, shared by every worker of this node (a process that only ever calls
// send-and-await-response can use what another found): slots of [engine key, current, list + 1].
const SLOTS = 8;
let registry: Int32Array | undefined;

/** The shared layout registry; the host passes it to each worker (see useLayoutRegistry). */
export function layoutRegistry(): SharedArrayBuffer {
  registry ??= new Int32Array(newLayoutRegistry());
  return registry.buffer as SharedArrayBuffer;
}

/** An empty registry: what a node starts with; tests use one to learn a layout from scratch. */
export function newLayoutRegistry(): SharedArrayBuffer {
  return new SharedArrayBuffer(SLOTS * 3 * 4);
}

export function useLayoutRegistry(buffer: SharedArrayBuffer): void {
  registry = new Int32Array(buffer);
}

function lookup(key: number): Layout | undefined {
  if (!registry) return undefined;
  for (let i = 0; i < SLOTS; i++) {
    if (Atomics.load(registry, i * 3) === key)
      return { current: Atomics.load(registry, i * 3 + 1), list: Atomics.load(registry, i * 3 + 2) - 1 };
  }
  return undefined;
}

function publish(key: number, layout: Layout): void {
  if (!registry) return;
  for (let i = 0; i < SLOTS; i++) {
    const had = Atomics.compareExchange(registry, i * 3, 0, key);
    if (had === key) return; // someone else found it first
    if (had === 0) {
      Atomics.store(registry, i * 3 + 1, layout.current);
      Atomics.store(registry, i * 3 + 2, layout.list + 1);
      return;
    }
  }
}

/** Which engine build a core module is (FNV-1a of its producers, imports and exports; never 0). */
function engineKey(module: object): number {
  const M = Wasm.Module as unknown as {
    customSections(m: object, name: string): ArrayBuffer[];
    exports(m: object): { name: string }[];
    imports(m: object): { module: string; name: string }[];
  };
  let h = 0x811c9dc5;
  const mix = (bytes: Uint8Array) => {
    for (const b of bytes) h = Math.imul(h ^ b, 0x01000193);
  };
  for (const sec of M.customSections(module, 'producers')) mix(new Uint8Array(sec));
  const names = [...M.imports(module).map((i) => `${i.module}/${i.name}`), ...M.exports(module).map((e) => e.name)].join(',');
  mix(new TextEncoder().encode(names));
  return h | 1;
}

export class ArgReclaimer {
  private postInit: (() => void) | undefined;
  private memory: WasmMemory | undefined;
  private key = 0;
  private layout: Layout | undefined;
  private off = false;
  /** Whether the runtime's current-call field may be -1 now (after a failed reclaim). */
  private broken = false;
  private untilDiscovery = 0;
  reclaims = 0;

  /**
   * Called for each core instance jco creates: the one that exports `cabi_post_init` and
   * `cabi_realloc_adapter` is componentize-js's engine. Returns what the glue should use as the
   * instance, with `cabi_post_init` routed through here.
   */
  adopt(module: object, instance: WasmInstance): WasmInstance {
    const ex = instance.exports as Record<string, unknown>;
    const post = ex.cabi_post_init;
    const memory = ex.memory;
    // cabi_realloc_adapter marks componentize-js's engine: other toolchains' post-returns mean
    // other things, so they are left alone.
    if (typeof post !== 'function' || typeof ex.cabi_realloc_adapter !== 'function' || !(memory instanceof Wasm.Memory)) return instance;
    this.postInit = post as () => void;
    this.memory = memory;
    this.key = engineKey(module);
    this.layout = lookup(this.key);
    // The real post-return when `init` returns: skipped only if a failed reclaim left the
    // runtime's state unknown (the process is ending either way).
    const exports = {
      ...ex,
      cabi_post_init: () => {
        if (!this.broken) (post as () => void)();
      },
    };
    return { exports } as unknown as WasmInstance;
  }

  /**
   * Frees the guest's dead argument allocations. Call on entry to an import, before anything is
   * written to guest memory; `returnsResult` says whether the guest holds a return area for it.
   */
  reclaim(returnsResult: boolean): void {
    if (this.off || !this.postInit || !this.memory) return;
    if (!this.layout) this.layout = lookup(this.key);
    if (!this.layout) {
      // wait until the list surely holds something, or its begin/end pair cannot be told apart
      if (++this.untilDiscovery < BATCH || !this.discover()) return;
    }
    const layout = this.layout as Layout;
    if (layout.list < 0) {
      if (!returnsResult) this.reclaimAll(layout, undefined);
      return;
    }
    const words = new Uint32Array(this.memory.buffer);
    const begin = words[layout.list];
    const end = words[layout.list + 1];
    if (begin === 0 || end < begin || (end - begin) % 4 !== 0 || end > words.byteLength) {
      this.disable(false);
      return;
    }
    if ((end - begin) / 4 < BATCH) return;
    // the newest entry may be this call's return area: keep it
    const newest = words[end / 4 - 1];
    words[layout.list + 1] = end - 4;
    this.reclaimAll(layout, newest);
  }

  private reclaimAll(layout: Layout, keep: number | undefined): void {
    const saved = new Uint32Array(this.memory!.buffer)[layout.current];
    if (saved === MINUS_ONE || saved >= 0x10000) {
      this.disable(false);
      return;
    }
    this.postInit!();
    const words = new Uint32Array(this.memory!.buffer);
    if (words[layout.current] !== MINUS_ONE) {
      this.disable(true);
      return;
    }
    words[layout.current] = saved;
    if (keep !== undefined) {
      const begin = words[layout.list];
      if (words[layout.list + 1] !== begin) {
        this.disable(true);
        return;
      }
      words[begin / 4] = keep;
      words[layout.list + 1] = begin + 4;
    }
    this.reclaims++;
  }

  /** How many allocations the runtime's list holds now, when its place is known. */
  pendingAllocations(): number | undefined {
    if (!this.memory || !this.layout || this.layout.list < 0 || this.off) return undefined;
    const words = new Uint32Array(this.memory.buffer);
    return (words[this.layout.list + 1] - words[this.layout.list]) / 4;
  }

  /** Learns the layout from a trial post-return whose effects are then undone; false if it cannot. */
  private discover(): boolean {
    const memory = this.memory!;
    const before = new Uint32Array(memory.buffer).slice();
    this.postInit!();
    const after = new Uint32Array(memory.buffer);
    const n = Math.min(before.length, after.length);
    const current = findCurrentCall(before, after, n);
    const list = current < 0 ? -1 : findList(before, after, n, current);
    // Undo the trial: the guest's state lives in its memory (the stack pointer is back where it
    // was once the call returned), so copying the snapshot back restores it, return area included.
    new Uint32Array(memory.buffer).set(before);
    if (current < 0) {
      this.disable(false);
      return false;
    }
    this.layout = { current, list };
    publish(this.key, this.layout);
    return true;
  }

  private disable(afterCall: boolean): void {
    this.off = true;
    if (afterCall) this.broken = true;
  }
}

/** The runtime's current-call index: the one word post-return set to -1 from a small index. */
function findCurrentCall(before: Uint32Array, after: Uint32Array, n: number): number {
  let current = -1;
  for (let i = 0; i < n; i++) {
    if (after[i] === MINUS_ONE && before[i] !== MINUS_ONE && before[i] < 0x10000) {
      if (current >= 0) return -1; // more than one candidate: not the layout we know
      current = i;
    }
  }
  return current;
}

/** The allocation list near it: a begin/end pointer pair whose end came back to begin. */
function findList(before: Uint32Array, after: Uint32Array, n: number, current: number): number {
  let list = -1;
  for (let i = Math.max(0, current - NEAR_WORDS); i < Math.min(n - 1, current + NEAR_WORDS); i++) {
    const b = before[i];
    const e = before[i + 1];
    if (after[i] === b && after[i + 1] === b && e > b && (e - b) % 4 === 0) {
      if (list >= 0) return -1;
      list = i;
    }
  }
  return list;
}
