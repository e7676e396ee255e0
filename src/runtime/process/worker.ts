// Entry of a process worker thread. A worker waits (parked, costing no CPU) until the host
// assigns it a process, instantiates the transpiled component with the host imports, and runs
// `init`. Only one process per worker, and the worker ends with it.
//
// Why Atomics.wait: the guest's `receive()` and `send-and-await-response()` are synchronous
// Wasm imports, and Node 20 has no JSPI, so the only way to wait for the kernel is to block this
// thread. While `init` runs, the worker's event loop is blocked too, so messages are pulled with
// receiveMessageOnPort rather than delivered as events.

import { type MessagePort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { type Address, addressToString } from '../../core/types.js';
import { ArgReclaimer, useLayoutRegistry } from './arg-reclaim.js';
import { type ComponentRoot, instantiateComponent, type LoadedGlue, loadGlue, saveCodeCache } from './component.js';
import { GuestApi, GuestApiError } from './guest.js';
import { type ExitWire, type FromWorker, type StartCommand, TAKEN, TAKEN_KIB, type ToWorker, WAKE } from './protocol.js';
import { createWasiLite, WasiExit, type WasiLite } from './wasi.js';
import { Wasm, type WasmMemory } from './wasm-api.js';

const {
  ctrl: ctrlSab,
  port,
  layouts,
} = workerData as { ctrl: SharedArrayBuffer; port: MessagePort; layouts: SharedArrayBuffer };
useLayoutRegistry(layouts);
const ctrl = new Int32Array(ctrlSab);

function pull(): ToWorker | StartCommand {
  for (;;) {
    const seen = Atomics.load(ctrl, WAKE);
    const m = receiveMessageOnPort(port);
    if (m) return m.message as ToWorker | StartCommand;
    // The host posts before it bumps WAKE, so a message that arrived after the poll above has
    // already changed the counter and this returns at once: no lost wake-up.
    Atomics.wait(ctrl, WAKE, seen);
  }
}

function post(m: FromWorker): void {
  port.postMessage(m);
}

function describe(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  return String(e);
}

// What StarlingMonkey writes to stderr when its allocator gets null back from a failed
// memory.grow (it then aborts with `unreachable`).
const OOM_TEXT = /\bout of memory\b/i;

function classify(e: unknown, wasi: WasiLite | undefined, memories: WasmMemory[], memoryLimitBytes: number): ExitWire {
  if (e instanceof WasiExit && e.ok) return { kind: 'returned' };
  const stderr = wasi?.stderrTail().replace(/\n*Redirecting call to abort\(\) to mozalloc_abort\n*/g, '\n').trim() ?? '';
  const cause = describe(e);
  const message = stderr && !(e instanceof GuestApiError) ? `${stderr}\n(${cause})` : cause;
  // A trap near the cap, or the guest saying it ran out, is a memory exit. "Near": the last
  // failed grow could have asked for up to a few MiB more than was left.
  const used = memories.reduce((n, m) => Math.max(n, m.buffer.byteLength), 0);
  const nearCap = used + 16 * 1048576 >= memoryLimitBytes;
  const oom = e instanceof RangeError && /memory/i.test(cause);
  if ((nearCap && e instanceof Wasm.RuntimeError) || OOM_TEXT.test(stderr) || oom) {
    return {
      kind: 'memory',
      message: `exceeded its memory limit of ${(memoryLimitBytes / 1048576).toFixed(0)} MiB (using ${(used / 1048576).toFixed(1)} MiB): ${message}`,
    };
  }
  return { kind: 'error', message };
}

async function run(cmd: StartCommand): Promise<void> {
  const t0 = performance.now();
  let glue: LoadedGlue['glue'];
  let script: LoadedGlue['script'];
  let cached: boolean;
  try {
    ({ glue, script, cached } = loadGlue(cmd.gluePath, cmd.glueCachePath));
  } catch (e) {
    post({ t: 'start-failed', message: `cannot load the transpiled component ${cmd.gluePath}: ${describe(e)}` });
    return;
  }
  const t1 = performance.now();
  const our: Address = { node: cmd.node, process: cmd.id };
  const link = {
    pull: () => pull() as ToWorker,
    post,
    taken: (kib: number) => {
      Atomics.add(ctrl, TAKEN, 1);
      Atomics.add(ctrl, TAKEN_KIB, kib);
    },
  };
  const reclaimer = new ArgReclaimer();
  const api = new GuestApi(link, our, (returnsResult) => reclaimer.reclaim(returnsResult));
  const standard = api.imports();
  let wasi: WasiLite | undefined;
  let wasiImports: Record<string, unknown> = {};
  if (cmd.wasi === 'lite') {
    wasi = createWasiLite({ onStdoutLine: (line) => post({ t: 'print', verbosity: 0, text: line }) });
    wasiImports = wasi.imports;
  } else if (cmd.wasi === 'shim') {
    const { WASIShim } = (await import('@bytecodealliance/preview2-shim/instantiation' as string)) as {
      WASIShim: new (opts?: unknown) => { getImportObject(): Record<string, unknown> };
    };
    wasiImports = new WASIShim({ sandbox: { preopens: {}, env: {}, enableNetwork: false } }).getImportObject();
  }
  const memories: WasmMemory[] = [];
  let root: ComponentRoot;
  try {
    root = instantiateComponent(glue, cmd.modules, standard, wasiImports, memories, reclaimer);
  } catch (e) {
    post({ t: 'start-failed', message: `cannot instantiate ${addressToString(our)}: ${describe(e)}` });
    return;
  }
  post({ t: 'ready', importMs: t1 - t0, instantiateMs: performance.now() - t1 });
  if (!cached) saveCodeCache(script, cmd.glueCachePath);
  let reason: ExitWire;
  try {
    root.init(addressToString(our));
    reason = { kind: 'returned' };
  } catch (e) {
    reason = classify(e, wasi, memories, cmd.memoryLimitBytes);
  }
  wasi?.flush();
  post({ t: 'exit', reason });
}

// Idle until the host hands us a process (blocking is fine: this thread has nothing else to do).
post({ t: 'idle' });
const first = pull();
if (first.t !== 'start') {
  post({ t: 'start-failed', message: `a new worker expected a start command, got ${first.t}` });
} else {
  await run(first);
}
port.close();
