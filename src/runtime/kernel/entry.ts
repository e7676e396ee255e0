// The kernel's process table entry, and the part of the kernel that its Kernel API
// (commands.ts) and the calls a process makes (calls.ts) work on. Internal to src/runtime/kernel.

import type { Logger } from '../../core/log.js';
import type { Address, Capability, KernelMessage, LazyLoadBlob, OnExit, ProcessId, } from '../../core/types.js';
import type { NativeProcess, Reply, RequestOptions } from './api.js';
import type { CapabilitySet } from './capabilities.js';
import type { ProcessStore, StoredProcess } from './persistence.js';
import type { RunningProcess, StateStore } from './kernel.js';
import type { KernelLimits } from './limits.js';

export interface ProcessEntry {
  id: ProcessId;
  key: string;
  wasmHandle: string;
  witVersion?: number;
  onExit: OnExit;
  isPublic: boolean;
  caps: CapabilitySet;
  /** capabilityKey of the messaging capability this process issues: made once, checked per message. */
  msgKey: string;
  /** kernel, state and vfs: they may message any local process without a capability. */
  privileged: boolean;
  native?: NativeProcess;
  wasm?: Uint8Array;
  running?: RunningProcess;
  /** Set once RunProcess arrived; until then messages wait in `buffered`. */
  started: boolean;
  buffered: KernelMessage[];
  /** Set when a KillProcess is underway, so that its exit does not trigger on-exit. */
  killing: boolean;
  /** Whether the terminal heard that its mailbox is full (until it drains). */
  mailboxWarned?: boolean;
}

/** What commands.ts and calls.ts use of the kernel. */
export interface KernelInternals {
  readonly our: string;
  readonly log: Logger;
  readonly table: Map<string, ProcessEntry>;
  readonly stateStore: StateStore;
  readonly store?: ProcessStore;
  readWasm(handle: string): Promise<Uint8Array | undefined>;
  readonly limits: KernelLimits;
  addr(p: ProcessId): Address;
  request(source: ProcessId, target: Address | string, body: Uint8Array | string, opts?: RequestOptions): Promise<Reply>;
  /** A Request from the kernel that expects no Response (the "run" Hyperdrive sends a process). */
  tell(source: ProcessId, target: Address | string, body: Uint8Array | string, opts?: RequestOptions): void;
  print(verbosity: number, text: string): void;
  respond(from: ProcessId, to: KernelMessage, body: Uint8Array | string, blob?: LazyLoadBlob, metadata?: string): void;
  grant(target: ProcessId, caps: Capability[]): void;
  newEntry(
    id: ProcessId,
    o: { isPublic: boolean; onExit?: OnExit; wasmHandle?: string; witVersion?: number; caps?: Capability[] },
  ): ProcessEntry;
  persistIfNeeded(e: ProcessEntry): void;
  startProcess(e: ProcessEntry): Promise<void>;
  /** Why another Wasm process of this package may not start now, or undefined if it may. */
  overProcessLimit(id: ProcessId): string | undefined;
  /** Cancel a pending restart of a crashed process (it is absent meanwhile); true if there was one. */
  cancelRestart(key: string): boolean;
  /** Ask the node to stop, as a process's Shutdown command does on Hyperdrive. */
  requestShutdown(by: string): void;
  removeProcess(e: ProcessEntry, revoke: boolean): void;
  killProcess(key: string, revoke?: boolean): Promise<boolean>;
  describe(e: ProcessEntry): StoredProcess;
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * The line printed when a message from `sender` to `receiver` is dropped because the sender holds
 * no messaging capability from the receiver (a Response, or a runtime module's Request). A
 * package fixes it by granting the sender (grant_capabilities); a system receiver (http-server,
 * the app store...) cannot, so the sender's package asks for the receiver's capability
 * (request_capabilities) instead.
 */
export function missingGrantHint(receiver: ProcessEntry, sender: ProcessEntry, what: 'Response' | 'Request' = 'Response'): string {
  const head = `${receiver.key} did not get a ${what} from ${sender.key}`;
  if (!receiver.native && receiver.id.publisherNode !== 'sys')
    return `${head}: add "${sender.key}" to its grant_capabilities in pkg/manifest.json`;
  return `${head}: add "${receiver.key}" to the request_capabilities of ${sender.id.processName} in its pkg/manifest.json`;
}
