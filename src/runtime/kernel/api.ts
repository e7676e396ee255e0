// What the kernel offers to the code that runs beside it: runtime modules (vfs, http-server, ...)
// and system packages written natively in TypeScript (main:app-store:sys, tester:tester:sys).
// Everything goes through messages; this interface only makes sending and awaiting them easy.

import type { Logger } from '../../core/log.js';
import type { Address, Capability, KernelMessage, LazyLoadBlob, ProcessId, Response, SendError } from '../../core/types.js';

export interface RequestOptions {
  blob?: LazyLoadBlob;
  /** Seconds to wait for the Response before failing with a Timeout SendError. Default 15. */
  timeoutSecs?: number;
  capabilities?: Capability[];
  metadata?: string;
}

export interface Reply {
  source: Address;
  response: Response;
  blob?: LazyLoadBlob;
}

/** Thrown by `KernelApi.request` when the kernel returns the Request as a SendError. */
export class SendErrorException extends Error {
  override name = 'SendErrorException';
  /**
   * Why, when the kernel knows at once (target not found, no capability, offline); used to answer
   * a caller immediately instead of letting it hang until a timeout.
   */
  readonly reason?: string;
  /** 'not-found' | 'no-capability' | 'offline' | 'timeout' | 'too-large' | 'mailbox-full' | 'died' */
  readonly code: string;
  constructor(readonly sendError: SendError, code?: string, reason?: string) {
    super(reason ?? `send error: ${sendError.kind}`);
    this.code = code ?? sendError.kind;
    this.reason = reason;
  }
}

export interface KernelApi {
  /** Our node's name, e.g. "fake.dev". */
  readonly our: string;
  /** The node's home folder. */
  readonly home: string;
  readonly log: Logger;
  /** The one choke point: every message goes through here and is checked against capabilities. */
  send(km: KernelMessage): void;
  newId(): bigint;
  /** Send a Request from `source` and resolve with its Response; rejects with SendErrorException. */
  request(
    source: ProcessId,
    target: Address | string,
    body: Uint8Array | string,
    opts?: RequestOptions,
  ): Promise<Reply>;
  /** Send a Request that expects no Response. */
  tell(source: ProcessId, target: Address | string, body: Uint8Array | string, opts?: RequestOptions): void;
  /**
   * Answer `to` (a Request this process received) from `from`: goes to its rsvp, else its source,
   * same id. `metadata` is the Response's (runtime modules echo the Request's, as Hyperdrive's do).
   */
  respond(from: ProcessId, to: KernelMessage, body: Uint8Array | string, blob?: LazyLoadBlob, metadata?: string): void;
  hasCapability(holder: ProcessId, cap: Capability): boolean;
  /** A line on the node's terminal at a verbosity (0 always shown). */
  print(verbosity: number, text: string): void;
  /**
   * Start a short-lived native process (e.g. the App Store's `<u64>:app-store:sys` transfer
   * workers, which Hyperdrive spawns as Wasm): OnExit None, never persisted, gone at `exitNative`.
   */
  spawnNative?(native: NativeProcess, caps: Capability[]): Promise<void>;
  /** A process started with `spawnNative` ends: it leaves the table and its capabilities are revoked. */
  exitNative?(id: ProcessId): void;
}

/**
 * A runtime module (`<name>:distro:sys`) or a natively written system process. It only sees
 * messages the kernel has already checked, and answers through `KernelApi`.
 */
export interface NativeProcess {
  readonly id: ProcessId;
  /** Public processes accept Requests from any local process without a messaging capability. */
  readonly isPublic?: boolean;
  start?(kernel: KernelApi): Promise<void> | void;
  handle(km: KernelMessage): void | Promise<void>;
  stop?(): Promise<void> | void;
}
