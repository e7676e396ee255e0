// The `hyperware:process/standard` imports as a guest sees them, running inside the process's
// worker. This is the process side of Hyperdrive's standard host (interop §10.5): the prompting
// message, blob inheritance, rsvp, the queue of messages that arrive while the guest awaits a
// specific Response, and blocking kernel calls. Routing, capabilities and timeouts are the
// kernel's; this module only talks to it through a Link.

import {
  type Address,
  addressToString,
  type KernelMessage,
  type LazyLoadBlob,
  type Message,
  randomU64,
  type Request,
  type Response,
  type SendError,
  sameAddress,
} from '../../core/types.js';
import { type FromWorker, mailboxKib, type ToWorker } from './protocol.js';

/** How the guest reaches the host: `pull` blocks until the host sends something. */
export interface Link {
  pull(): ToWorker;
  post(msg: FromWorker): void;
  /** A message left the mailbox (the guest took it, or dropped it as unwanted); `kib` its size. */
  taken?(kib: number): void;
}

/**
 * A misuse of the API that Hyperdrive answers with a trap (e.g. awaiting a Response from
 * yourself). Thrown through the guest, which cannot catch it; the process ends with this message.
 */
export class GuestApiError extends Error {
  override name = 'GuestApiError';
}

type Incoming = Extract<ToWorker, { t: 'msg' }> | Extract<ToWorker, { t: 'send-error' }>;
type Received = [Address, Message];

/** A WIT `result` error for jco: an Error carrying `.payload`. */
function witErr(payload: unknown, message: string): Error {
  return Object.assign(new Error(message), { payload });
}

export class GuestApi {
  private readonly queue: Incoming[] = [];
  /** The last received message that can be answered (no blob: that lives in lastBlob). */
  private prompting: KernelMessage | undefined;
  private lastBlob: LazyLoadBlob | undefined;
  private lastMessageBlobbed = false;
  /**
   * Requests we sent that expect a Response, with the prompting message at the time: when the
   * Response (or its SendError) comes, that message becomes prompting again, so a process that
   * fans out and collects can still answer the Request that started it.
   */
  private readonly outstanding = new Map<bigint, KernelMessage | undefined>();
  private seq = 0;

  /**
   * @param reclaim frees the guest's dead argument allocations (see arg-reclaim.ts); called on
   *   entry to the imports a process calls for every message.
   */
  constructor(
    private readonly link: Link,
    readonly our: Address,
    private readonly reclaim: (returnsResult: boolean) => void = () => {},
  ) {}

  // ---- message intake -----------------------------------------------------

  /** Next message for the guest; Responses and SendErrors nobody waits for are dropped, as on Hyperdrive. */
  private ingest(): Incoming {
    for (;;) {
      const m = this.link.pull();
      if (this.wanted(m)) return m as Incoming;
      if (m.t === 'msg') this.link.taken?.(mailboxKib(m.km));
    }
  }

  private wanted(m: ToWorker): boolean {
    if (m.t === 'msg') return m.km.message.tag === 'request' || this.outstanding.has(m.km.id);
    if (m.t === 'send-error') return this.outstanding.has(m.id);
    return false; // a kernel-call answer nobody waits for
  }

  /** Make `item` the current message; returns what `receive` hands the guest, or its error payload. */
  private accept(item: Incoming): { ok: Received } | { err: [SendError, Uint8Array | undefined] } {
    if (item.t === 'send-error') {
      this.lastMessageBlobbed = false;
      if (this.outstanding.has(item.id)) {
        this.prompting = this.outstanding.get(item.id);
        this.outstanding.delete(item.id);
      }
      return { err: [item.error, item.context] };
    }
    const km = item.km;
    this.link.taken?.(mailboxKib(km));
    if (km.lazyLoadBlob) {
      this.lastBlob = km.lazyLoadBlob;
      this.lastMessageBlobbed = true;
    } else {
      this.lastMessageBlobbed = false;
    }
    const bare: KernelMessage = { ...km, lazyLoadBlob: undefined };
    if (km.message.tag === 'request') {
      // only a message someone can be answered becomes prompting
      if (km.message.val.expectsResponse !== undefined || km.rsvp) this.prompting = bare;
    } else if (this.outstanding.has(km.id)) {
      this.prompting = this.outstanding.get(km.id);
      this.outstanding.delete(km.id);
    } else {
      this.prompting = bare;
    }
    return { ok: [km.source, km.message] };
  }

  // ---- the WIT functions ----------------------------------------------------

  receive(): Received {
    const r = this.accept(this.queue.shift() ?? this.ingest());
    if ('err' in r) throw witErr(r.err, `send error: ${r.err[0].kind}`);
    return r.ok;
  }

  hasBlob(): boolean {
    return this.lastMessageBlobbed;
  }

  getBlob(): LazyLoadBlob | undefined {
    return this.lastMessageBlobbed ? this.lastBlob : undefined;
  }

  lastBlobFn(): LazyLoadBlob | undefined {
    return this.lastBlob;
  }

  sendRequest(target: Address, request: Request, context: Uint8Array | undefined, blob: LazyLoadBlob | undefined): bigint {
    const prompting = this.prompting;
    const expects = request.expectsResponse !== undefined;
    let id: bigint;
    if (request.inherit && prompting) id = prompting.id;
    else {
      do id = randomU64();
      while (this.outstanding.has(id));
    }
    const lazyLoadBlob = blob ?? (request.inherit ? this.lastBlob : undefined);
    if (expects) this.outstanding.set(id, prompting);
    // rsvp: we want the Response ourselves; else an inheriting Request passes its asker's rsvp on
    const rsvp = expects ? this.our : request.inherit && prompting ? prompting.rsvp : undefined;
    this.link.post({
      t: 'send',
      km: { id, source: this.our, target, rsvp, message: { tag: 'request', val: request }, lazyLoadBlob },
      context: expects ? context : undefined,
    });
    return id;
  }

  sendRequests(list: Array<[Address, Request, Uint8Array | undefined, LazyLoadBlob | undefined]>): void {
    for (const [target, request, context, blob] of list) this.sendRequest(target, request, context, blob);
  }

  sendResponse(response: Response, blob: LazyLoadBlob | undefined): void {
    const prompting = this.prompting;
    if (!prompting) {
      this.link.post({
        t: 'print',
        verbosity: 0,
        text: 'send-response ignored: no Request to answer yet (receive a Request that expects a Response first)',
      });
      return;
    }
    const lazyLoadBlob = response.inherit ? this.lastBlob : blob;
    this.link.post({
      t: 'send',
      km: {
        id: prompting.id,
        source: this.our,
        target: prompting.rsvp ?? prompting.source,
        rsvp: undefined,
        message: { tag: 'response', val: [response, undefined] },
        lazyLoadBlob,
      },
      context: undefined,
    });
  }

  sendAndAwaitResponse(target: Address, request: Request, blob: LazyLoadBlob | undefined): Received {
    if (request.expectsResponse === undefined)
      throw new GuestApiError(
        'send-and-await-response needs a Request with expects-response set (a timeout in seconds)',
      );
    if (sameAddress(target, this.our))
      throw new GuestApiError(
        `send-and-await-response from ${addressToString(this.our)} to itself would deadlock: send it a Request and receive it instead`,
      );
    const id = this.sendRequest(target, request, undefined, blob);
    const matches = (m: Incoming) =>
      m.t === 'send-error' ? m.id === id : m.km.id === id && m.km.message.tag === 'response';
    let item: Incoming | undefined;
    const at = this.queue.findIndex(matches);
    if (at >= 0) item = this.queue.splice(at, 1)[0];
    while (!item) {
      const m = this.ingest();
      if (matches(m)) item = m;
      else this.queue.push(m); // others wait for a later receive()
    }
    const r = this.accept(item);
    if ('err' in r) throw witErr(r.err[0], `send error: ${r.err[0].kind}`);
    return r.ok;
  }

  /** A kernel call (state, spawn, capabilities, on-exit): blocks until the host answers. */
  call(op: string, args: unknown[]): unknown {
    const seq = ++this.seq;
    this.link.post({ t: 'call', seq, op, args });
    for (;;) {
      const m = this.link.pull();
      if (m.t === 'ret') {
        if (m.seq !== seq) continue;
        if (m.ok) return m.val;
        if (m.hasPayload) throw witErr(m.payload, m.message);
        throw new GuestApiError(`${op} failed: ${m.message}`);
      }
      if (this.wanted(m)) this.queue.push(m as Incoming);
    }
  }

  print(verbosity: number, text: string): void {
    this.link.post({ t: 'print', verbosity, text });
  }

  /** The import object for `hyperware:process/standard`, with jco's camelCase names. */
  imports(): Record<string, (...args: never[]) => unknown> {
    return {
      printToTerminal: (verbosity: number, text: string) => {
        this.reclaim(false);
        this.print(verbosity, text);
      },
      our: () => this.our,
      getOnExit: () => this.call('get-on-exit', []),
      setOnExit: (onExit: unknown) => void this.call('set-on-exit', [onExit]),
      getState: () => this.call('get-state', []),
      setState: (bytes: Uint8Array) => void this.call('set-state', [bytes]),
      clearState: () => void this.call('clear-state', []),
      spawn: (
        name: string | undefined,
        wasmPath: string,
        onExit: unknown,
        requestCapabilities: unknown,
        grantCapabilities: unknown,
        isPublic: boolean,
      ) => this.call('spawn', [name, wasmPath, onExit, requestCapabilities, grantCapabilities, isPublic]),
      saveCapabilities: (caps: unknown) => void this.call('save-capabilities', [caps]),
      dropCapabilities: (caps: unknown) => void this.call('drop-capabilities', [caps]),
      ourCapabilities: () => this.call('our-capabilities', []),
      receive: () => {
        this.reclaim(true);
        return this.receive();
      },
      hasBlob: () => this.hasBlob(),
      getBlob: () => this.getBlob(),
      lastBlob: () => this.lastBlobFn(),
      sendRequest: (target: Address, request: Request, context: Uint8Array | undefined, blob: LazyLoadBlob | undefined) => {
        this.reclaim(false);
        this.sendRequest(target, request, context, blob);
      },
      sendRequests: (list: Array<[Address, Request, Uint8Array | undefined, LazyLoadBlob | undefined]>) => {
        this.reclaim(false);
        this.sendRequests(list);
      },
      sendResponse: (response: Response, blob: LazyLoadBlob | undefined) => {
        this.reclaim(false);
        this.sendResponse(response, blob);
      },
      sendAndAwaitResponse: (target: Address, request: Request, blob: LazyLoadBlob | undefined) => {
        this.reclaim(true);
        return this.sendAndAwaitResponse(target, request, blob);
      },
    };
  }
}
