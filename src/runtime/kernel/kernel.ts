// The kernel: process table, message routing with capability checks, request timeouts,
// on-exit rules, persistence of the process map, and the Kernel API (`kernel:distro:sys`).
// Every message on the node passes through `route`, the one choke point.

import type { Logger } from '../../core/log.js';
import {
  type Address,
  addressToString,
  type Capability,
  capabilityKey,
  isSafeProcessId,
  type KernelMessage,
  type LazyLoadBlob,
  MAX_MESSAGE_BYTES,
  MESSAGING_PARAMS,
  type Message,
  messagingCap,
  NETWORK_PARAMS,
  type OnExit,
  type ProcessId,
  parseAddress,
  parseProcessId,
  processIdToString,
  randomU64,
  type Response,
  type SendError,
  type SendErrorKind,
  systemProcess,
  utf8,
} from '../../core/types.js';
import type { KernelApi, NativeProcess, Reply, RequestOptions } from './api.js';
import { SendErrorException } from './api.js';
import { CapabilitySet } from './capabilities.js';
import { capabilityFromJson, capabilityToJson, onExitFromJson, onExitToJson } from './json.js';
import type { ExitReason, KernelCallOp, ProcessEvents } from '../process/host.js';
import type { ProcessStore, StoredProcess } from './persistence.js';
import { RestartBackoff } from './restart.js';
import { processCall } from './calls.js';
import { runKernelCommand } from './commands.js';
import { errorMessage, type KernelInternals, type Outstanding, type ProcessEntry } from './entry.js';

// ---------------------------------------------------------------------------
// What the kernel needs from the component host (src/runtime/process/host.ts), structurally.

// The contract with the component host is the host's own (src/runtime/process/host.ts).
export type { ExitReason, KernelCallOp, ProcessEvents };

export interface RunningProcess {
  deliver(km: KernelMessage): void;
  deliverSendError(id: bigint, error: SendError, context: Uint8Array | undefined): void;
  kill(): Promise<void>;
}

export interface ProcessRunner {
  start(opts: { id: ProcessId; node: string; wasm: Uint8Array; events: ProcessEvents }): Promise<RunningProcess>;
}

/** Where the kernel keeps process state (`get/set/clear-state`). */
export interface StateStore {
  get(id: string): Uint8Array | undefined;
  set(id: string, bytes: Uint8Array): void;
  delete(id: string): void;
}

// ---------------------------------------------------------------------------

export interface KernelOptions {
  our: string;
  home: string;
  log: Logger;
  runner: ProcessRunner;
  state: StateStore;
  store?: ProcessStore;
  /** Reads a wasm file by its VFS path (`/pkg:pub/pkg/x.wasm`), for spawn and for reboots. */
  readWasm: (handle: string) => Promise<Uint8Array | undefined>;
  print?: (verbosity: number, text: string) => void;
  /** For tests: the clock behind restart back-off. */
  now?: () => number;
}

const KERNEL = systemProcess('kernel');
/** Modules that may send without existing in the table, as in Hyperdrive. */
const PRIVILEGED = new Set(['kernel:distro:sys', 'state:distro:sys', 'vfs:distro:sys']);

function bodyOf(m: Message): Uint8Array {
  return m.tag === 'request' ? m.val.body : m.val[0].body;
}

/** Members without `private` are also used by commands.ts and calls.ts (KernelInternals). */
export class Kernel implements KernelApi, KernelInternals {
  readonly our: string;
  readonly home: string;
  readonly log: Logger;
  readonly table = new Map<string, ProcessEntry>();
  private readonly outstanding = new Map<string, Outstanding>();
  private readonly runner: ProcessRunner;
  readonly stateStore: StateStore;
  readonly store?: ProcessStore;
  readonly readWasm: KernelOptions['readWasm'];
  private readonly now: () => number;
  private printer: (verbosity: number, text: string) => void;
  private shuttingDown = false;
  private readonly saved: Record<string, StoredProcess>;
  /** The networking capability, checked on every remote message both ways: built once. */
  private readonly networkCap: Capability;

  constructor(opts: KernelOptions) {
    this.our = opts.our;
    this.home = opts.home;
    this.log = opts.log;
    this.runner = opts.runner;
    this.stateStore = opts.state;
    this.store = opts.store;
    this.readWasm = opts.readWasm;
    this.now = opts.now ?? Date.now;
    this.networkCap = { issuer: this.addr(KERNEL), params: NETWORK_PARAMS };
    this.printer = opts.print ?? ((_v, t) => this.log.info(t));
    // What the last run saved, taken before boot-time grants rewrite the modules' entries.
    this.saved = this.store?.load() ?? {};
    this.table.set('kernel:distro:sys', this.newEntry(KERNEL, { isPublic: false }));
  }

  setPrinter(p: (verbosity: number, text: string) => void): void {
    this.printer = p;
  }

  // ---- KernelApi --------------------------------------------------------------------------

  newId(): bigint {
    return randomU64();
  }

  print(verbosity: number, text: string): void {
    this.printer(verbosity, text);
  }

  addr(p: ProcessId): Address {
    return { node: this.our, process: p };
  }

  private toAddress(t: Address | string): Address {
    if (typeof t !== 'string') return t.node === 'our' ? { ...t, node: this.our } : t;
    const a = t.includes('@') ? parseAddress(t) : { node: this.our, process: parseProcessId(t) };
    return a.node === 'our' ? { ...a, node: this.our } : a;
  }

  send(km: KernelMessage): void {
    this.route(km, undefined);
  }

  request(source: ProcessId, target: Address | string, body: Uint8Array | string, opts: RequestOptions = {}): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      const km = this.buildRequest(source, target, body, opts, opts.timeoutSecs ?? 15);
      this.route(km, undefined, { resolve, reject });
    });
  }

  tell(source: ProcessId, target: Address | string, body: Uint8Array | string, opts: RequestOptions = {}): void {
    this.route(this.buildRequest(source, target, body, opts, undefined), undefined);
  }

  private buildRequest(
    source: ProcessId,
    target: Address | string,
    body: Uint8Array | string,
    opts: RequestOptions,
    timeoutSecs: number | undefined,
  ): KernelMessage {
    const src = this.addr(source);
    return {
      id: this.newId(),
      source: src,
      target: this.toAddress(target),
      rsvp: timeoutSecs === undefined ? undefined : src,
      message: {
        tag: 'request',
        val: {
          inherit: false,
          expectsResponse: timeoutSecs === undefined ? undefined : BigInt(Math.max(0, Math.ceil(timeoutSecs))),
          body: typeof body === 'string' ? utf8(body) : body,
          metadata: opts.metadata,
          capabilities: opts.capabilities ?? [],
        },
      },
      lazyLoadBlob: opts.blob,
    };
  }

  respond(from: ProcessId, to: KernelMessage, body: Uint8Array | string, blob?: LazyLoadBlob, metadata?: string): void {
    const target = to.rsvp ?? to.source;
    const response: Response = {
      inherit: false,
      body: typeof body === 'string' ? utf8(body) : body,
      metadata,
      capabilities: [],
    };
    this.route(
      { id: to.id, source: this.addr(from), target, message: { tag: 'response', val: [response, undefined] }, lazyLoadBlob: blob },
      undefined,
    );
  }

  hasCapability(holder: ProcessId, cap: Capability): boolean {
    return this.table.get(processIdToString(holder))?.caps.has(cap) ?? false;
  }

  // ---- process table ----------------------------------------------------------------------

  newEntry(
    id: ProcessId,
    o: { isPublic: boolean; onExit?: OnExit; wasmHandle?: string; witVersion?: number; caps?: Capability[] },
  ): ProcessEntry {
    return {
      id,
      key: processIdToString(id),
      wasmHandle: o.wasmHandle ?? '',
      witVersion: o.witVersion,
      onExit: o.onExit ?? { tag: 'restart' },
      isPublic: o.isPublic,
      caps: new CapabilitySet(o.caps ?? []),
      received: new Set(),
      started: false,
      buffered: [],
      killing: false,
      backoff: new RestartBackoff(this.now),
    };
  }

  /** Register a runtime module or a native system process and start it. */
  async addNative(native: NativeProcess, caps: Capability[] = []): Promise<void> {
    const entry = this.newEntry(native.id, { isPublic: !!native.isPublic, caps });
    entry.native = native;
    entry.started = true;
    this.table.set(entry.key, entry);
    await native.start?.(this);
  }

  async spawnNative(native: NativeProcess, caps: Capability[]): Promise<void> {
    const key = processIdToString(native.id);
    if (this.table.has(key)) throw new Error(`process ${key} already exists`);
    const entry = this.newEntry(native.id, { isPublic: !!native.isPublic, onExit: { tag: 'none' }, caps });
    entry.native = native;
    entry.started = true;
    this.table.set(key, entry);
    await native.start?.(this);
  }

  exitNative(id: ProcessId): void {
    const e = this.table.get(processIdToString(id));
    if (!e?.native || e.onExit.tag !== 'none') return;
    this.removeProcess(e, true);
    Promise.resolve(e.native.stop?.()).catch(() => {});
  }

  grant(target: ProcessId, caps: Capability[]): void {
    const e = this.table.get(processIdToString(target));
    if (!e) return;
    for (const c of caps) e.caps.add(c);
    this.persistIfNeeded(e);
  }

  processIds(): string[] {
    return [...this.table.keys()];
  }

  has(id: string): boolean {
    return this.table.has(id);
  }

  // ---- routing ------------------------------------------------------------------------------

  /**
   * The one place messages are checked and delivered. `context` is the sender's context for a
   * Request that expects a Response; `waiter` is a native caller's promise.
   */
  route(
    km: KernelMessage,
    context: Uint8Array | undefined,
    waiter?: { resolve: (r: Reply) => void; reject: (e: SendErrorException) => void },
  ): void {
    if (km.source.node === 'our') km.source = { ...km.source, node: this.our };
    if (km.target.node === 'our') km.target = { ...km.target, node: this.our };
    const msg = km.message;
    const isRequest = msg.tag === 'request';
    const sourceKey = processIdToString(km.source.process);
    const sourceEntry = this.table.get(sourceKey);

    const fail = (kind: SendErrorKind, code: string, reason: string) => {
      this.log.debug(`dropped message ${km.id} from ${addressToString(km.source)} to ${addressToString(km.target)}: ${reason}`);
      if (!isRequest) return;
      const error: SendError = { kind, target: km.target, message: msg, lazyLoadBlob: km.lazyLoadBlob };
      if (waiter) waiter.reject(new SendErrorException(error, code, reason));
      else if (msg.val.expectsResponse !== undefined && sourceEntry?.running)
        sourceEntry.running.deliverSendError(km.id, error, context);
    };

    if (km.source.node === this.our) {
      // The 10 MB limit is the network's (one WebSocket frame); local messages carry whole
      // components (12 MB from componentize-js) to the kernel and the VFS, as on Hyperdrive.
      const size = bodyOf(msg).length + (km.lazyLoadBlob?.bytes.length ?? 0);
      if (size > MAX_MESSAGE_BYTES && km.target.node !== this.our) {
        fail('timeout', 'too-large', `message of ${size} bytes is over the ${MAX_MESSAGE_BYTES}-byte network limit`);
        return;
      }
      if (!sourceEntry && !PRIVILEGED.has(sourceKey)) {
        fail('timeout', 'not-found', `sender ${sourceKey} is not a running process`);
        return;
      }
      // Attached capabilities survive only if the sender issued them or holds them.
      const caps = isRequest ? msg.val.capabilities : msg.val[0].capabilities;
      if (caps.length > 0 && sourceEntry) {
        const srcAddr = addressToString(km.source);
        const kept = caps.filter((c) => addressToString(c.issuer) === srcAddr || sourceEntry.caps.has(c));
        if (kept.length !== caps.length) {
          if (isRequest) msg.val.capabilities = kept;
          else msg.val[0].capabilities = kept;
        }
      }
    }

    // Outgoing over the network.
    if (km.target.node !== this.our) {
      if (km.source.node !== this.our) return; // we do not relay for others here
      if (!sourceEntry?.caps.has(this.networkCap) && !PRIVILEGED.has(sourceKey)) {
        if (!sourceEntry?.native) {
          fail('timeout', 'no-capability', `${sourceKey} lacks the networking capability`);
          return;
        }
      }
      const net = this.table.get('net:distro:sys');
      if (!net) {
        fail('offline', 'offline', `${km.target.node} is unreachable: this node has no networking`);
        return;
      }
      this.track(km, context, waiter);
      this.deliver(net, km);
      return;
    }

    const targetKey = processIdToString(km.target.process);
    let target = this.table.get(targetKey);
    if (!target && km.target.process.processName === 'kernel' && km.source.node === this.our) target = this.table.get('kernel:distro:sys');
    if (!target) {
      fail('timeout', 'not-found', `process ${targetKey} not found on ${this.our}`);
      return;
    }

    if (km.source.node !== this.our) {
      // Incoming from the network: the target must hold the networking capability.
      if (!target.native && !target.caps.has(this.networkCap)) {
        this.log.debug(`dropped remote message to ${targetKey}: it lacks the networking capability`);
        return;
      }
    } else if (isRequest && !PRIVILEGED.has(sourceKey) && !target.isPublic) {
      const cap = messagingCap(this.addr(target.id));
      if (!sourceEntry?.caps.has(cap)) {
        fail('timeout', 'no-capability', `${sourceKey} has no capability to message ${targetKey}`);
        return;
      }
    }

    if (isRequest) {
      this.track(km, context, waiter);
      if (target.key === 'kernel:distro:sys') {
        runKernelCommand(this, km).catch((e) => this.log.error(`kernel command failed: ${errorMessage(e)}`));
        return;
      }
      this.deliver(target, km);
      return;
    }

    // A Response goes only to a matching outstanding Request.
    const key = `${targetKey}/${km.id}`;
    const out = this.outstanding.get(key);
    if (!out) {
      this.log.debug(`dropped response ${km.id} to ${targetKey}: no outstanding request`);
      return;
    }
    this.outstanding.delete(key);
    if (out.timer) clearTimeout(out.timer);
    if (out.resolve) {
      out.resolve({ source: km.source, response: msg.val[0], blob: km.lazyLoadBlob });
      return;
    }
    msg.val[1] = out.context;
    this.deliver(target, km);
  }

  /**
   * For `net:distro:sys`: a Request it could not deliver (peer not in the PKI, connection or
   * handshake failed) goes back to its sender as an Offline SendError, now instead of at timeout.
   */
  returnOffline(km: KernelMessage, reason: string): void {
    const msg = km.message;
    if (msg.tag !== 'request' || km.source.node !== this.our) return;
    const requester = processIdToString(km.source.process);
    const key = `${requester}/${km.id}`;
    const out = this.outstanding.get(key);
    if (!out) return; // fire-and-forget, already answered or timed out
    this.outstanding.delete(key);
    if (out.timer) clearTimeout(out.timer);
    const error: SendError = { kind: 'offline', target: km.target, message: msg, lazyLoadBlob: km.lazyLoadBlob };
    if (out.reject) out.reject(new SendErrorException(error, 'offline', reason));
    else this.table.get(requester)?.running?.deliverSendError(km.id, error, out.context);
  }

  /** Remember a Request that expects a Response, and return it as a Timeout when its time is up. */
  private track(
    km: KernelMessage,
    context: Uint8Array | undefined,
    waiter?: { resolve: (r: Reply) => void; reject: (e: SendErrorException) => void },
  ): void {
    const msg = km.message;
    if (msg.tag !== 'request' || msg.val.expectsResponse === undefined) return;
    if (km.source.node !== this.our) return;
    const requester = processIdToString(km.source.process);
    // Only the party named in rsvp (normally the sender) gets the Response.
    if (km.rsvp && processIdToString(km.rsvp.process) !== requester) return;
    const key = `${requester}/${km.id}`;
    const out: Outstanding = {
      requester,
      target: km.target,
      request: msg.val,
      blob: km.lazyLoadBlob,
      context,
      resolve: waiter?.resolve,
      reject: waiter?.reject,
    };
    // setTimeout cannot wait past 2^31-1 ms (about 24 days); longer waits are as good as forever.
    const ms = Math.min(Number(msg.val.expectsResponse) * 1000, 2 ** 31 - 1);
    out.timer = setTimeout(() => {
      if (this.outstanding.get(key) !== out) return;
      this.outstanding.delete(key);
      const error: SendError = { kind: 'timeout', target: km.target, message: msg, lazyLoadBlob: km.lazyLoadBlob };
      if (out.reject) out.reject(new SendErrorException(error, 'timeout', `no response from ${addressToString(km.target)} within ${ms / 1000} s`));
      else this.table.get(requester)?.running?.deliverSendError(km.id, error, out.context);
    }, ms);
    out.timer.unref?.();
    this.outstanding.set(key, out);
  }

  private deliver(target: ProcessEntry, km: KernelMessage): void {
    if (target.native) {
      try {
        const r = target.native.handle(km);
        if (r && typeof (r as Promise<void>).catch === 'function')
          (r as Promise<void>).catch((e) => this.log.error(`${target.key} failed on a message: ${errorMessage(e)}`));
      } catch (e) {
        this.log.error(`${target.key} failed on a message: ${errorMessage(e)}`);
      }
      return;
    }
    const caps = km.message.tag === 'request' ? km.message.val.capabilities : km.message.val[0].capabilities;
    for (const c of caps) target.received.add(capabilityKey(c));
    if (!target.started || !target.running) {
      target.buffered.push(km);
      return;
    }
    target.running.deliver(km);
  }

  // ---- process lifecycle -------------------------------------------------------------------

  async startProcess(e: ProcessEntry): Promise<void> {
    if (!e.wasm) throw new Error(`no wasm for ${e.key}`);
    e.started = true;
    e.killing = false;
    e.backoff.started();
    const running = await this.runner.start({ id: e.id, node: this.our, wasm: e.wasm, events: this.eventsFor(e) });
    if (this.table.get(e.key) !== e) {
      await running.kill();
      return;
    }
    e.running = running;
    const queued = e.buffered;
    e.buffered = [];
    for (const km of queued) running.deliver(km);
  }

  private eventsFor(e: ProcessEntry): ProcessEvents {
    let exited = false;
    return {
      onSend: (km, context) => this.route(km, context),
      onCall: (op, args) => processCall(this, e, op, args),
      onPrint: (v, text) => this.print(v, `${e.id.packageName}:${e.id.publisherNode}: ${text}`),
      onExit: (reason) => {
        if (exited) return;
        exited = true;
        this.onProcessExit(e, reason);
      },
    };
  }

  private onProcessExit(e: ProcessEntry, reason: ExitReason): void {
    e.running = undefined;
    if (this.shuttingDown || e.killing || this.table.get(e.key) !== e) return;
    const address = addressToString(this.addr(e.id));
    if (reason.kind === 'error' || reason.kind === 'memory')
      this.print(0, `process ${address} ended with error:\n${reason.message}`);
    else this.log.debug(`process ${address} returned`);

    const onExit = e.onExit;
    if (onExit.tag === 'restart') {
      const delay = e.backoff.nextDelayMs();
      e.started = false;
      this.log.info(`restarting ${e.key} ${delay === 0 ? 'now' : `in ${delay} ms`}`);
      e.restartTimer = setTimeout(() => {
        e.restartTimer = undefined;
        if (this.table.get(e.key) !== e || e.killing) return;
        this.startProcess(e).catch((err) => this.print(0, `could not restart ${e.key}: ${errorMessage(err)}`));
      }, delay);
      e.restartTimer.unref?.();
      return;
    }
    if (onExit.tag === 'requests') {
      for (const [target, request, blob] of onExit.val) {
        this.route(
          { id: this.newId(), source: this.addr(e.id), target, message: { tag: 'request', val: { ...request, expectsResponse: undefined } }, lazyLoadBlob: blob },
          undefined,
        );
      }
    }
    this.removeProcess(e, true);
  }

  removeProcess(e: ProcessEntry, revoke: boolean): void {
    if (e.restartTimer) clearTimeout(e.restartTimer);
    this.table.delete(e.key);
    if (revoke) {
      const issuer = addressToString(this.addr(e.id));
      for (const other of this.table.values()) if (other.caps.revokeIssuer(issuer) > 0) this.persistIfNeeded(other);
    }
    this.store?.remove(e.key);
  }

  async killProcess(key: string, revoke = true): Promise<boolean> {
    const e = this.table.get(key);
    if (!e || e.native || key === 'kernel:distro:sys') return false;
    e.killing = true;
    this.removeProcess(e, revoke);
    const running = e.running;
    e.running = undefined;
    if (running) await running.kill();
    return true;
  }

  describe(e: ProcessEntry): StoredProcess {
    return {
      wasm_bytes_handle: e.wasmHandle,
      wit_version: e.witVersion ?? null,
      on_exit: onExitToJson(e.onExit),
      capabilities: e.caps.list().map(capabilityToJson),
      public: e.isPublic,
    };
  }

  // ---- persistence -------------------------------------------------------------------------

  persistIfNeeded(e: ProcessEntry): void {
    if (!this.store || e.onExit.tag === 'none') return;
    // Runtime modules keep what packages granted them (e.g. http-server's cap to message an app).
    if (e.native) this.store.put(e.key, { ...this.describe(e), wasm_bytes_handle: '' });
    else if (e.wasmHandle) this.store.put(e.key, this.describe(e));
  }

  /** Bring back every persisted process (a `--persist` reboot), then start them. */
  async restore(): Promise<void> {
    if (!this.store) return;
    const saved = this.saved;
    const toStart: ProcessEntry[] = [];
    for (const [key, p] of Object.entries(saved)) {
      let id: ProcessId;
      try {
        id = parseProcessId(key);
      } catch {
        continue;
      }
      const existing = this.table.get(key);
      if (existing?.native) {
        for (const c of p.capabilities.map(capabilityFromJson)) existing.caps.add(c);
        this.persistIfNeeded(existing);
        continue;
      }
      if (!isSafeProcessId(id) || existing || !p.wasm_bytes_handle) continue;
      const wasm = await this.readWasm(p.wasm_bytes_handle);
      if (!wasm) {
        this.log.warning(`not restoring ${key}: ${p.wasm_bytes_handle} is gone`);
        this.store.remove(key);
        continue;
      }
      const entry = this.newEntry(id, {
        isPublic: p.public,
        onExit: onExitFromJson(p.on_exit),
        wasmHandle: p.wasm_bytes_handle,
        witVersion: p.wit_version ?? undefined,
        caps: p.capabilities.map(capabilityFromJson),
      });
      entry.wasm = wasm;
      this.table.set(key, entry);
      toStart.push(entry);
    }
    await Promise.all(
      toStart.map((e) => this.startProcess(e).catch((err) => this.print(0, `could not restart ${e.key}: ${errorMessage(err)}`))),
    );
  }

  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    for (const out of this.outstanding.values()) if (out.timer) clearTimeout(out.timer);
    this.outstanding.clear();
    const stops: Promise<unknown>[] = [];
    for (const e of this.table.values()) {
      if (e.restartTimer) clearTimeout(e.restartTimer);
      if (e.running) stops.push(e.running.kill().catch(() => {}));
      if (e.native?.stop) stops.push(Promise.resolve(e.native.stop()).catch(() => {}));
    }
    await Promise.all(stops);
    this.store?.flush();
  }
}

export { MESSAGING_PARAMS, NETWORK_PARAMS };
