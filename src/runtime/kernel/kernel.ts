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
import { raiseWith } from '../quotas.js';
import { defaultLimits, type KernelLimits } from './limits.js';
import type { ProcessStore, StoredProcess } from './persistence.js';
import { RestartBackoff } from './restart.js';
import { processCall } from './calls.js';
import { runKernelCommand } from './commands.js';
import { errorMessage, type KernelInternals, missingGrantHint, type ProcessEntry } from './entry.js';
import { OutstandingRequests, type Waiter } from './outstanding.js';

// ---------------------------------------------------------------------------
// What the kernel needs from the component host (src/runtime/process/host.ts), structurally.

// The contract with the component host is the host's own (src/runtime/process/host.ts).
export type { ExitReason, KernelCallOp, ProcessEvents };

export interface RunningProcess {
  deliver(km: KernelMessage): void;
  deliverSendError(id: bigint, error: SendError, context: Uint8Array | undefined): void;
  kill(): Promise<void>;
  /** Messages delivered that the process has not taken yet, and their size (when the runner knows). */
  backlog?(): { messages: number; bytes: number };
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
  /** Process counts and mailbox bounds (limits.ts); defaults when absent. */
  limits?: KernelLimits;
  /** A process sent the Kernel API's Shutdown: stop the node (absent: the request is only printed). */
  onShutdownRequested?: () => void;
}

const KERNEL = systemProcess('kernel');
/**
 * kernel, state and vfs may message any local process without a capability, and may send without
 * being in the table (hyperdrive/src/kernel/mod.rs, the local capability check).
 */
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
  private readonly outstanding: OutstandingRequests;
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
  private readonly networkKey: string;
  readonly limits: KernelLimits;
  private readonly onShutdownRequested?: () => void;
  /** Restart back-off per process id; kept across restarts and reinstalls, as Hyperdrive keeps it. */
  private readonly backoffs = new Map<string, RestartBackoff>();
  /** Crashed processes waiting out their back-off (absent from the table meanwhile). */
  private readonly restarts = new Map<string, { timer: NodeJS.Timeout; at: number }>();
  /** (requester, responder) pairs already told about a Response dropped for want of a capability. */
  private readonly hinted = new Set<string>();

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
    this.networkKey = capabilityKey(this.networkCap);
    this.outstanding = new OutstandingRequests(this.our, (requester, id, error, context) =>
      this.table.get(requester)?.running?.deliverSendError(id, error, context),
    );
    this.limits = opts.limits ?? defaultLimits();
    this.onShutdownRequested = opts.onShutdownRequested;
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
    const key = processIdToString(id);
    return {
      id,
      key,
      wasmHandle: o.wasmHandle ?? '',
      witVersion: o.witVersion,
      onExit: o.onExit ?? { tag: 'restart' },
      isPublic: o.isPublic,
      caps: new CapabilitySet(o.caps ?? []),
      msgKey: capabilityKey(messagingCap(this.addr(id))),
      privileged: PRIVILEGED.has(key),
      started: false,
      buffered: [],
      killing: false,
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
    waiter?: Waiter,
  ): void {
    if (km.source.node === 'our') km.source = { ...km.source, node: this.our };
    if (km.target.node === 'our') km.target = { ...km.target, node: this.our };
    const msg = km.message;
    const isRequest = msg.tag === 'request';
    const local = km.source.node === this.our;
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

    if (local) {
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
      if (!local) return; // we do not relay for others here
      if (!sourceEntry?.caps.hasKey(this.networkKey) && !PRIVILEGED.has(sourceKey) && !sourceEntry?.native) {
        fail('timeout', 'no-capability', `${sourceKey} lacks the networking capability`);
        return;
      }
      // Over the network's limit, Hyperdrive's net drops the message and its sender times out
      // (net.ts does the same); a native waiter (the HTTP RPC) hears why at once instead.
      const size = waiter ? bodyOf(msg).length + (km.lazyLoadBlob?.bytes.length ?? 0) : 0;
      if (size > MAX_MESSAGE_BYTES) {
        fail('timeout', 'too-large', `message of ${size} bytes is over the ${MAX_MESSAGE_BYTES}-byte network limit`);
        return;
      }
      const net = this.table.get('net:distro:sys');
      if (!net) {
        fail('offline', 'offline', `${km.target.node} is unreachable: this node has no networking`);
        return;
      }
      this.outstanding.track(km, context, waiter, undefined);
      this.deliver(net, km);
      return;
    }

    const targetKey = processIdToString(km.target.process);
    let target = this.table.get(targetKey);
    if (!target && km.target.process.processName === 'kernel' && local) target = this.table.get('kernel:distro:sys');
    if (!target) {
      const restart = this.restarts.get(targetKey);
      fail(
        'timeout',
        'not-found',
        restart
          ? `${targetKey} crashed and restarts in ${Math.max(0, Math.ceil((restart.at - this.now()) / 1000))} s`
          : `process ${targetKey} not found on ${this.our}`,
      );
      return;
    }

    if (!local) {
      // Incoming from the network: the target must hold the networking capability.
      if (!target.native && !target.caps.hasKey(this.networkKey)) {
        this.log.debug(`dropped remote message to ${targetKey}: it lacks the networking capability`);
        return;
      }
    } else if (!target.isPublic && sourceEntry && !sourceEntry.privileged && !sourceEntry.caps.hasKey(target.msgKey)) {
      // Every local message, Request or Response: the source must hold a messaging capability
      // issued by the target, unless the target is public (hyperdrive/src/kernel/mod.rs).
      if (!isRequest) this.dropResponse(km, sourceEntry, target);
      else {
        // A runtime module's Request to a package (an eth subscription update, http-server's
        // RPC) is refused for the same missing grant: say it once too.
        if (sourceEntry.native && !target.native && target.id.publisherNode !== 'sys')
          this.hintOnce(target.key, sourceEntry.key, missingGrantHint(target, sourceEntry, 'Request'));
        fail('timeout', 'no-capability', `${sourceKey} has no capability to message ${targetKey}`);
      }
      return;
    }

    if (isRequest) {
      if (!target.native && !target.privileged) {
        const full = this.mailboxFull(target);
        if (full) {
          fail('timeout', 'mailbox-full', full);
          return;
        }
      }
      this.outstanding.track(km, context, waiter, target.key);
      if (target.key === 'kernel:distro:sys') {
        runKernelCommand(this, km).catch((e) => this.log.error(`kernel command failed: ${errorMessage(e)}`));
        return;
      }
      this.deliver(target, km);
      return;
    }

    // A Response goes only to a matching outstanding Request.
    const out = this.outstanding.take(targetKey, km.id);
    if (!out) {
      this.log.debug(`dropped response ${km.id} to ${targetKey}: no outstanding request`);
      return;
    }
    if (out.resolve) {
      out.resolve({ source: km.source, response: msg.val[0], blob: km.lazyLoadBlob });
      return;
    }
    msg.val[1] = out.context;
    this.deliver(target, km);
  }

  /**
   * A Response whose responder holds no capability from the requester is dropped, as on
   * Hyperdrive, where the requester then times out. Beyond the real node: one line on the
   * terminal per (requester, responder) says which grant is missing, and a native waiter (the
   * HTTP RPC) is answered at once with it.
   */
  private dropResponse(km: KernelMessage, responder: ProcessEntry, requester: ProcessEntry): void {
    if (!this.outstanding.get(requester.key, km.id)) {
      this.log.debug(`dropped response ${km.id} from ${responder.key} to ${requester.key}: no capability, and no outstanding request`);
      return;
    }
    const hint = missingGrantHint(requester, responder);
    this.hintOnce(requester.key, responder.key, hint);
    // A process's Request stays outstanding and times out, as on Hyperdrive.
    this.outstanding.rejectNative(requester.key, km.id, 'no-capability', hint);
  }

  /** Print `hint` on the terminal the first time `receiver` misses a message from `sender`. */
  private hintOnce(receiver: string, sender: string, hint: string): void {
    const pair = `${receiver} ${sender}`;
    if (this.hinted.has(pair)) return;
    this.hinted.add(pair);
    this.print(0, hint);
  }

  /** Why a Request to `target` is refused because its mailbox is full, or undefined. */
  private mailboxFull(target: ProcessEntry): string | undefined {
    const b = target.running?.backlog?.() ?? { messages: target.buffered.length, bytes: 0 };
    if (b.messages < this.limits.mailboxMessages && b.bytes < this.limits.mailboxBytes) {
      target.mailboxWarned = false;
      return undefined;
    }
    const reason =
      `${target.key}'s mailbox is full (${b.messages} messages, ${(b.bytes / 1048576).toFixed(1)} MiB not yet received): ` +
      `it is not receiving fast enough. The limits are ${this.limits.mailboxMessages} messages and ` +
      `${this.limits.mailboxBytes / 1048576} MiB (${raiseWith('mailboxMessages')}; ${raiseWith('mailboxBytes')})`;
    if (!target.mailboxWarned) {
      target.mailboxWarned = true;
      this.print(0, `kernel: refusing Requests until it catches up: ${reason}`);
    }
    return reason;
  }

  /**
   * For `net:distro:sys`: a Request it could not deliver (peer not in the PKI, connection or
   * handshake failed) goes back to its sender as an Offline SendError, now instead of at timeout.
   */
  returnOffline(km: KernelMessage, reason: string): void {
    this.outstanding.returnOffline(km, reason);
  }

  /**
   * For `net:distro:sys`: it dropped a message over the network's size limit, as Hyperdrive's net
   * does. A process that sent it waits out its timeout, as there; a native waiter (the HTTP RPC)
   * hears why at once.
   */
  returnTooLarge(km: KernelMessage, reason: string): void {
    if (km.message.tag !== 'request' || km.source.node !== this.our) return;
    this.outstanding.rejectNative(processIdToString(km.source.process), km.id, 'too-large', reason);
  }

  /**
   * Beyond Hyperdrive (where the requester waits out its timeout): a native waiter on a Request to
   * a process that just ended (the HTTP RPC, the tester) is told at once why. Processes keep the
   * real behaviour and time out.
   */
  private failWaitersOn(key: string, why: string): void {
    this.outstanding.failWaitersOn(key, why);
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
    if (!target.started || !target.running) {
      target.buffered.push(km);
      return;
    }
    target.running.deliver(km);
  }

  // ---- process lifecycle -------------------------------------------------------------------

  private backoffOf(key: string): RestartBackoff {
    let b = this.backoffs.get(key);
    if (!b) {
      b = new RestartBackoff(this.now);
      this.backoffs.set(key, b);
    }
    return b;
  }

  async startProcess(e: ProcessEntry): Promise<void> {
    if (!e.wasm) throw new Error(`no wasm for ${e.key}`);
    e.started = true;
    e.killing = false;
    this.backoffOf(e.key).started();
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

  /** Why another Wasm process of `id`'s package may not start now, or undefined if it may. */
  overProcessLimit(id: ProcessId): string | undefined {
    let all = 0;
    let ofPackage = 0;
    for (const e of this.table.values()) {
      if (e.native || e.key === 'kernel:distro:sys') continue;
      all++;
      if (e.id.packageName === id.packageName && e.id.publisherNode === id.publisherNode) ofPackage++;
    }
    const pkg = `${id.packageName}:${id.publisherNode}`;
    if (all >= this.limits.maxProcesses)
      return `this node already runs ${all} processes, its limit (${raiseWith('maxProcesses')} raises it)`;
    if (ofPackage >= this.limits.maxProcessesPerPackage)
      return `package ${pkg} already runs ${ofPackage} processes, the limit per package (${raiseWith('maxProcessesPerPackage')} raises it)`;
    return undefined;
  }

  requestShutdown(by: string): void {
    if (this.onShutdownRequested) {
      this.print(0, `kernel: ${by} asked the node to shut down; shutting down`);
      this.onShutdownRequested();
    } else this.print(0, `kernel: ${by} asked the node to shut down; this node is run by another command, which stops it`);
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
    const failed = reason.kind === 'error' || reason.kind === 'memory';
    if (failed) this.print(0, `process ${address} ended with error:\n${reason.message}`);
    else this.log.debug(`process ${address} returned`);
    const ended = failed ? `${e.key} ended with an error before answering: ${reason.message}` : `${e.key} returned before answering`;

    const onExit = e.onExit;
    if (onExit.tag === 'restart') {
      const delay = this.backoffOf(e.key).nextDelayMs();
      // Hyperdrive kills the process (without revoking what it issued) and initializes it again
      // after the back-off: meanwhile it is absent, and Requests to it fail at once.
      this.table.delete(e.key);
      this.failWaitersOn(e.key, `${ended}; it restarts ${delay === 0 ? 'now' : `in ${delay / 1000} s`}`);
      this.print(1, `kernel: restarting ${e.key} ${delay === 0 ? 'now' : `in ${delay / 1000} s`}`);
      const restart = () => {
        this.restarts.delete(e.key);
        if (this.shuttingDown || this.table.has(e.key)) return; // reinstalled meanwhile
        const fresh = this.newEntry(e.id, {
          isPublic: e.isPublic,
          onExit: e.onExit,
          wasmHandle: e.wasmHandle,
          witVersion: e.witVersion,
          caps: e.caps.list(),
        });
        fresh.wasm = e.wasm;
        this.table.set(e.key, fresh);
        this.startProcess(fresh).catch((err) => {
          this.print(0, `could not restart ${e.key}: ${errorMessage(err)}`);
          if (this.table.get(e.key) === fresh) this.table.delete(e.key);
        });
      };
      if (delay === 0) restart();
      else {
        const timer = setTimeout(restart, delay);
        timer.unref?.();
        this.restarts.set(e.key, { timer, at: this.now() + delay });
      }
      return;
    }
    this.failWaitersOn(e.key, ended);
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

  cancelRestart(key: string): boolean {
    const r = this.restarts.get(key);
    if (!r) return false;
    clearTimeout(r.timer);
    this.restarts.delete(key);
    return true;
  }

  removeProcess(e: ProcessEntry, revoke: boolean): void {
    this.table.delete(e.key);
    if (revoke) {
      const issuer = addressToString(this.addr(e.id));
      for (const other of this.table.values()) if (other.caps.revokeIssuer(issuer) > 0) this.persistIfNeeded(other);
    }
    this.store?.remove(e.key);
  }

  async killProcess(key: string, revoke = true): Promise<boolean> {
    const e = this.table.get(key);
    if (!e) {
      // Killed during its restart back-off: it stays dead (Hyperdrive would still bring it back).
      if (this.cancelRestart(key)) {
        if (revoke) {
          const issuer = `${this.our}@${key}`;
          for (const other of this.table.values()) if (other.caps.revokeIssuer(issuer) > 0) this.persistIfNeeded(other);
        }
        this.store?.remove(key);
      }
      return false;
    }
    if (e.native || key === 'kernel:distro:sys') return false;
    e.killing = true;
    this.removeProcess(e, revoke);
    this.failWaitersOn(key, `${key} was killed before answering`);
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
    this.outstanding.clear();
    const stops: Promise<unknown>[] = [];
    for (const r of this.restarts.values()) clearTimeout(r.timer);
    this.restarts.clear();
    for (const e of this.table.values()) {
      if (e.running) stops.push(e.running.kill().catch(() => {}));
      if (e.native?.stop) stops.push(Promise.resolve(e.native.stop()).catch(() => {}));
    }
    await Promise.all(stops);
    this.store?.flush();
  }
}

export { MESSAGING_PARAMS, NETWORK_PARAMS };
