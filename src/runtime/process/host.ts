// The component host: runs each process (a Wasm component of world process-v1) in its own
// worker thread. The kernel starts processes, hands them messages and hears what they send;
// this module never routes anything itself.
//
// Per component (by sha256): transpiled once per machine (disk cache), its core modules
// compiled once per host and memory limit (after capping the memory section, see
// wasm-memory.ts) and passed to workers as WasmModule objects, which V8 shares instead
// of recompiling. Per process: one worker taken from a small pool of warm, parked workers.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { createLogger, type Logger } from '../../core/log.js';
import type { KernelMessage, ProcessId, SendError } from '../../core/types.js';
import { processIdToString } from '../../core/types.js';
import { layoutRegistry } from './arg-reclaim.js';
import { CTRL_BYTES, type FromWorker, mailboxKib, type StartCommand, TAKEN, TAKEN_KIB, type ToWorker, WAKE } from './protocol.js';
import { GLUE_CACHE_NAME, sha256Hex, type Transpiled, TranspileCache } from './transpile.js';
import { compileOptimizedFromFirstCall, Wasm, type WasmModule } from './wasm-api.js';
import { capMemory, defaultProcessMemoryBytes } from './wasm-memory.js';

export type KernelCallOp =
  | 'get-state'
  | 'set-state'
  | 'clear-state'
  | 'spawn'
  | 'our-capabilities'
  | 'save-capabilities'
  | 'drop-capabilities'
  | 'get-on-exit'
  | 'set-on-exit';

export type ExitReason =
  | { kind: 'returned' } // init returned
  | { kind: 'error'; message: string } // threw or trapped (message includes the root cause)
  | { kind: 'memory'; message: string } // exceeded its memory cap
  | { kind: 'killed' }; // kill() was called

export interface ProcessEvents {
  /**
   * The guest sent a message. km is complete (id, source = our address, target, rsvp, message,
   * lazyLoadBlob). For a Request that expects a response, `context` is the guest's context.
   * Capabilities attached by the guest are passed as given: filtering them is the kernel's job.
   */
  onSend(km: KernelMessage, context: Uint8Array | undefined): void;
  /**
   * A kernel call the guest blocks on. Return a value or a Promise; to make a WIT `result` an
   * err, throw (or reject with) an Error carrying `.payload` (e.g. 'name-taken'). Any other
   * error traps the guest with its message.
   */
  onCall(op: KernelCallOp, args: unknown[]): unknown | Promise<unknown>;
  /** print-to-terminal, and each line the guest writes to stdout (verbosity 0). Text is raw: add the "<package>:<publisher>: " prefix. */
  onPrint(verbosity: number, text: string): void;
  /** Called exactly once per started process. */
  onExit(reason: ExitReason): void;
}

export interface StartOptions {
  id: ProcessId;
  node: string; // the process's address is node@id
  wasm: Uint8Array; // the component bytes
  memoryLimitBytes?: number; // default: the host's (see DEFAULT_MEMORY_LIMIT_BYTES)
  events: ProcessEvents;
}

export interface ProcessInstance {
  readonly id: ProcessId;
  /** Hand the guest a message. For a Response, the kernel has already put the saved context in message.val[1]. */
  deliver(km: KernelMessage): void;
  /** The kernel returns a Request the guest sent (id = that request's id) as a SendError. */
  deliverSendError(id: bigint, error: SendError, context: Uint8Array | undefined): void;
  /** Works even while the guest loops or blocks. */
  kill(): Promise<void>;
  /** Whether the process has ended (returned, failed or was killed). */
  readonly exited: boolean;
  /** Messages delivered that the guest has not taken yet, and their size. */
  backlog(): { messages: number; bytes: number };
  /** Milliseconds from start() to init() being entered, and the parts of it inside the worker. */
  readonly timings: StartTimings;
}

export interface StartTimings {
  totalMs: number;
  importMs: number;
  instantiateMs: number;
  warmWorker: boolean;
}

/** wasm32's 4 GiB as on a real node, at most a quarter of this machine's memory (wasm-memory.ts). */
export const DEFAULT_MEMORY_LIMIT_BYTES = defaultProcessMemoryBytes();
/** The worker's own JS heap (the jco glue and messages in flight), separate from the guest's Wasm memory. */
const WORKER_HEAP_MB = 128;

/** The process could not be started: bad component, imports we cannot satisfy, memory too small. */
export class ProcessStartError extends Error {
  override name = 'ProcessStartError';
}

export class HostClosedError extends Error {
  override name = 'HostClosedError';
  constructor() {
    super('the component host is closed; create a new ComponentHost');
  }
}

const WORKER_URL = new URL('./worker.js', import.meta.url);

/** A worker thread with its channel, before or after it is given a process. */
class Slot {
  readonly worker: Worker;
  readonly port: MessagePort;
  readonly ctrl: Int32Array;
  readonly created = performance.now();
  /** Where messages from this worker go; the pool sets it when it hands the slot out. */
  onMessage: (m: FromWorker) => void = () => {};
  onGone: (why: string, outOfMemory: boolean) => void = () => {};

  constructor() {
    const { port1, port2 } = new MessageChannel();
    this.ctrl = new Int32Array(new SharedArrayBuffer(CTRL_BYTES));
    this.port = port1;
    this.worker = new Worker(WORKER_URL, {
      workerData: { ctrl: this.ctrl.buffer, port: port2, layouts: layoutRegistry() },
      transferList: [port2],
      resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
    });
    this.port.on('message', (m: FromWorker) => this.onMessage(m));
    this.worker.on('error', (e: Error & { code?: string }) =>
      this.onGone(`its worker failed: ${e.message}`, e.code === 'ERR_WORKER_OUT_OF_MEMORY'),
    );
    this.worker.on('exit', (code) => {
      // messages posted just before the end may still be queued: hear them first
      for (let m = receive(this.port); m; m = receive(this.port)) this.onMessage(m);
      this.onGone(`its worker exited (code ${code})`, false);
    });
  }

  send(m: ToWorker | StartCommand): void {
    this.port.postMessage(m);
    // post first, then bump and wake (see protocol.ts)
    Atomics.add(this.ctrl, WAKE, 1);
    Atomics.notify(this.ctrl, WAKE);
  }

  /** Idle pool workers must not keep the node's process alive. */
  setRef(on: boolean): void {
    if (on) {
      this.worker.ref();
      this.port.ref();
    } else {
      this.worker.unref();
      this.port.unref();
    }
  }
}

function receive(port: MessagePort): FromWorker | undefined {
  return receiveMessageOnPort(port)?.message as FromWorker | undefined;
}

class Instance implements ProcessInstance {
  exited = false;
  /** Set when start() resolves. */
  started = false;
  timings: StartTimings = { totalMs: 0, importMs: 0, instantiateMs: 0, warmWorker: false };
  private ended = false;
  /** Messages and KiB handed to the worker; wrap at 2^32 like the worker's TAKEN counters. */
  private delivered = 0;
  private deliveredKib = 0;

  constructor(
    readonly id: ProcessId,
    private readonly slot: Slot,
    private readonly events: ProcessEvents,
    private readonly log: Logger,
    private readonly forget: (i: Instance) => void,
  ) {}

  deliver(km: KernelMessage): void {
    if (this.ended) {
      this.dropped('message');
      return;
    }
    this.delivered = (this.delivered + 1) | 0;
    this.deliveredKib = (this.deliveredKib + mailboxKib(km)) | 0;
    this.slot.send({ t: 'msg', km });
  }

  backlog(): { messages: number; bytes: number } {
    const ctrl = this.slot.ctrl;
    return {
      messages: (this.delivered - Atomics.load(ctrl, TAKEN)) | 0,
      bytes: ((this.deliveredKib - Atomics.load(ctrl, TAKEN_KIB)) | 0) * 1024,
    };
  }

  deliverSendError(id: bigint, error: SendError, context: Uint8Array | undefined): void {
    if (this.ended) {
      this.dropped('send error');
      return;
    }
    this.slot.send({ t: 'send-error', id, error, context });
  }

  private dropped(what: string): void {
    this.log.debug(`dropped a ${what} for ${processIdToString(this.id)}: the process has exited`);
  }

  async kill(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    await this.slot.worker.terminate();
    this.finish({ kind: 'killed' });
  }

  /** Handles what the worker says once it runs this process. */
  handle(m: FromWorker): void {
    if (this.ended) return;
    switch (m.t) {
      case 'send':
        this.guard('onSend', () => this.events.onSend(m.km, m.context));
        return;
      case 'print':
        this.guard('onPrint', () => this.events.onPrint(m.verbosity, m.text));
        return;
      case 'call':
        this.call(m.seq, m.op as KernelCallOp, m.args);
        return;
      case 'exit':
        this.ended = true;
        void this.slot.worker.terminate();
        this.finish(m.reason);
        return;
      default:
        return; // 'idle' / 'ready' / 'start-failed' are the pool's business
    }
  }

  /** The worker died without saying why (crash, JS heap limit). */
  gone(why: string, outOfMemory: boolean): void {
    if (this.ended) return;
    this.ended = true;
    this.finish(outOfMemory ? { kind: 'memory', message: why } : { kind: 'error', message: why });
  }

  private finish(reason: ExitReason): void {
    if (this.exited) return;
    this.exited = true;
    this.forget(this);
    // a process whose start() rejected never existed for the kernel: no onExit for it
    if (this.started) this.guard('onExit', () => this.events.onExit(reason));
  }

  private call(seq: number, op: KernelCallOp, args: unknown[]): void {
    const reply = (r: ToWorker) => {
      if (!this.ended) this.slot.send(r);
    };
    const fail = (e: unknown) => {
      const hasPayload = typeof e === 'object' && e !== null && 'payload' in e;
      reply({
        t: 'ret',
        seq,
        ok: false,
        hasPayload,
        payload: hasPayload ? (e as { payload: unknown }).payload : undefined,
        message: e instanceof Error ? e.message : String(e),
      });
    };
    try {
      const v = this.events.onCall(op, args);
      if (v instanceof Promise) v.then((val) => reply({ t: 'ret', seq, ok: true, val }), fail);
      else reply({ t: 'ret', seq, ok: true, val: v });
    } catch (e) {
      fail(e);
    }
  }

  private guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      // a throwing handler is the kernel's bug; it must not take the host down
      this.log.error(`${what} handler for ${processIdToString(this.id)} threw: ${e instanceof Error ? e.stack : e}`);
    }
  }
}

export class ComponentHost {
  private readonly log: Logger;
  private readonly transpiles: TranspileCache;
  private readonly warmWorkers: number;
  private readonly pool: Slot[] = [];
  private readonly compiled = new Map<string, Promise<Record<string, WasmModule>>>();
  private readonly shaOf = new WeakMap<Uint8Array, string>();
  private readonly running = new Set<Instance>();
  private closed = false;
  /** Each process's linear memory cap unless its start() says otherwise. */
  private readonly memoryLimitBytes: number;

  constructor(opts: { cacheDir: string; log?: Logger; warmWorkers?: number; memoryLimitBytes?: number }) {
    this.log = opts.log ?? createLogger({ target: 'kit::process-host' });
    this.memoryLimitBytes = opts.memoryLimitBytes ?? DEFAULT_MEMORY_LIMIT_BYTES;
    this.transpiles = new TranspileCache(opts.cacheDir, this.log);
    this.warmWorkers = Math.max(0, opts.warmWorkers ?? 2);
    this.refill();
  }

  /** Resolves once init() has been entered; rejects with ProcessStartError if it cannot get that far. */
  async start(opts: StartOptions): Promise<ProcessInstance> {
    if (this.closed) throw new HostClosedError();
    const t0 = performance.now();
    const limit = opts.memoryLimitBytes ?? this.memoryLimitBytes;
    let sha = this.shaOf.get(opts.wasm);
    if (!sha) {
      sha = sha256Hex(opts.wasm);
      this.shaOf.set(opts.wasm, sha);
    }
    let transpiled: Transpiled;
    let modules: Record<string, WasmModule>;
    const name = processIdToString(opts.id);
    try {
      transpiled = await this.transpiles.get(sha, opts.wasm);
      modules = await this.modules(transpiled, limit);
    } catch (e) {
      throw new ProcessStartError(`cannot start ${name}: ${e instanceof Error ? e.message : e}`, { cause: e });
    }
    if (this.closed) throw new HostClosedError();

    const warm = this.pool.length > 0;
    const slot = this.pool.shift() ?? new Slot();
    slot.setRef(true);
    const instance = new Instance(opts.id, slot, opts.events, this.log, (i) => this.running.delete(i));
    this.running.add(instance);

    return new Promise<ProcessInstance>((resolve, reject) => {
      let started = false;
      let settled = false;
      // Replace the pool's worker only once this one is up: on two cores a booting worker
      // would otherwise compete with the instantiation it is meant to speed up.
      const fail = (message: string) => {
        if (settled) return;
        settled = true;
        this.refill();
        this.running.delete(instance);
        void slot.worker.terminate();
        reject(new ProcessStartError(`cannot start ${name}: ${message}`));
      };
      slot.onMessage = (m) => {
        if (started) return instance.handle(m);
        if (m.t === 'ready') {
          if (settled) return; // closed while starting
          started = true;
          settled = true;
          instance.started = true;
          this.refill();
          instance.timings = {
            totalMs: performance.now() - t0,
            importMs: m.importMs,
            instantiateMs: m.instantiateMs,
            warmWorker: warm,
          };
          this.log.debug(`started ${name} in ${instance.timings.totalMs.toFixed(1)} ms`, { ...instance.timings });
          resolve(instance);
        } else if (m.t === 'start-failed') fail(m.message);
      };
      slot.onGone = (why, oom) => {
        if (started) instance.gone(`${name} ended: ${why}`, oom);
        else fail(this.closed ? 'the host was closed while it started' : why);
      };
      const cmd: StartCommand = {
        t: 'start',
        gluePath: transpiled.gluePath,
        glueCachePath: join(transpiled.dir, GLUE_CACHE_NAME),
        modules,
        id: opts.id,
        node: opts.node,
        wasi: transpiled.wasi,
        memoryLimitBytes: limit,
      };
      slot.send(cmd);
    });
  }

  /**
   * The component transpiled (disk cache) and its core modules compiled at a memory limit, as
   * start() uses them; for running a guest in the caller's own thread (benchmarks).
   */
  async prepare(
    wasm: Uint8Array,
    memoryLimitBytes = DEFAULT_MEMORY_LIMIT_BYTES,
  ): Promise<{ transpiled: Transpiled; glueCachePath: string; modules: Record<string, WasmModule> }> {
    const transpiled = await this.transpiles.get(sha256Hex(wasm), wasm);
    const modules = await this.modules(transpiled, memoryLimitBytes);
    return { transpiled, glueCachePath: join(transpiled.dir, GLUE_CACHE_NAME), modules };
  }

  /** Kills every running process (each gets onExit killed) and stops the warm workers. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const pool = this.pool.splice(0);
    await Promise.all([...[...this.running].map((i) => i.kill()), ...pool.map((s) => s.worker.terminate())]);
  }

  /** Compiled core modules for a component at a memory limit, compiled once per host. */
  private modules(t: Transpiled, limit: number): Promise<Record<string, WasmModule>> {
    const key = `${t.sha256}:${limit}`;
    let p = this.compiled.get(key);
    if (!p) {
      p = (async () => {
        const t0 = performance.now();
        compileOptimizedFromFirstCall();
        const out: Record<string, WasmModule> = {};
        for (const file of t.coreFiles) {
          const { bytes } = capMemory(new Uint8Array(readFileSync(join(t.dir, file))), limit);
          out[file] = await Wasm.compile(bytes);
        }
        this.log.debug(`compiled component ${t.sha256.slice(0, 12)} in ${(performance.now() - t0).toFixed(0)} ms`);
        return out;
      })();
      this.compiled.set(key, p);
      p.catch(() => this.compiled.delete(key));
    }
    return p;
  }

  private refill(): void {
    while (!this.closed && this.pool.length < this.warmWorkers) {
      const slot = new Slot();
      slot.setRef(false);
      slot.onGone = (why) => {
        // an idle worker should never die; drop it and make another
        const at = this.pool.indexOf(slot);
        if (at >= 0) {
          this.pool.splice(at, 1);
          this.log.warning(`a warm process worker died while idle (${why}); replacing it`);
          this.refill();
        }
      };
      this.pool.push(slot);
    }
  }
}
