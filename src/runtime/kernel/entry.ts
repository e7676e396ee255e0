// The kernel's process table entry, and the part of the kernel that its Kernel API
// (commands.ts) and the calls a process makes (calls.ts) work on. Internal to src/runtime/kernel.

import type { Logger } from '../../core/log.js';
import type { Address, Capability, KernelMessage, LazyLoadBlob, OnExit, ProcessId, Request } from '../../core/types.js';
import type { NativeProcess, Reply } from './api.js';
import type { SendErrorException } from './api.js';
import type { CapabilitySet } from './capabilities.js';
import type { ProcessStore, StoredProcess } from './persistence.js';
import type { RestartBackoff } from './restart.js';
import type { RunningProcess, StateStore } from './kernel.js';

export interface ProcessEntry {
  id: ProcessId;
  key: string;
  wasmHandle: string;
  witVersion?: number;
  onExit: OnExit;
  isPublic: boolean;
  caps: CapabilitySet;
  /** Capabilities this process was handed in messages: the only foreign caps it may save. */
  received: Set<string>;
  native?: NativeProcess;
  wasm?: Uint8Array;
  running?: RunningProcess;
  /** Set once RunProcess arrived; until then messages wait in `buffered`. */
  started: boolean;
  buffered: KernelMessage[];
  /** Set when a KillProcess is underway, so that its exit does not trigger on-exit. */
  killing: boolean;
  backoff: RestartBackoff;
  restartTimer?: NodeJS.Timeout;
}

export interface Outstanding {
  requester: string;
  target: Address;
  request: Request;
  blob?: LazyLoadBlob;
  context?: Uint8Array;
  timer?: NodeJS.Timeout;
  resolve?: (reply: Reply) => void;
  reject?: (e: SendErrorException) => void;
}

/** What commands.ts and calls.ts use of the kernel. */
export interface KernelInternals {
  readonly our: string;
  readonly log: Logger;
  readonly table: Map<string, ProcessEntry>;
  readonly stateStore: StateStore;
  readonly store?: ProcessStore;
  readWasm(handle: string): Promise<Uint8Array | undefined>;
  addr(p: ProcessId): Address;
  print(verbosity: number, text: string): void;
  respond(from: ProcessId, to: KernelMessage, body: Uint8Array | string, blob?: LazyLoadBlob, metadata?: string): void;
  grant(target: ProcessId, caps: Capability[]): void;
  newEntry(
    id: ProcessId,
    o: { isPublic: boolean; onExit?: OnExit; wasmHandle?: string; witVersion?: number; caps?: Capability[] },
  ): ProcessEntry;
  persistIfNeeded(e: ProcessEntry): void;
  startProcess(e: ProcessEntry): Promise<void>;
  removeProcess(e: ProcessEntry, revoke: boolean): void;
  killProcess(key: string, revoke?: boolean): Promise<boolean>;
  describe(e: ProcessEntry): StoredProcess;
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
