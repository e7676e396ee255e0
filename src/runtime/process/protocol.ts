// What the host (main thread) and a process worker say to each other. Values are the jco JS
// representation from ../types.ts, so they cross with structured clone and no conversion.
//
// Wake-up rule (why no message is lost): the host posts on the port FIRST, then bumps
// ctrl[WAKE] and notifies. The worker reads ctrl[WAKE], then polls the port, and only then
// parks in Atomics.wait(ctrl, WAKE, seen): if a post landed after its poll, the counter has
// moved and the wait returns at once.

import type { KernelMessage, ProcessId, SendError } from '../../core/types.js';
import type { WasmModule } from './wasm-api.js';

/** Index of the wake-up counter in the worker's Int32Array control block. */
export const WAKE = 0;
/**
 * Messages the guest has taken out of its mailbox (received, or dropped as unwanted), and their
 * size in KiB: the host subtracts them from what it delivered to know how full the mailbox is.
 * Both wrap around at 2^32 and are compared with wrapping arithmetic.
 */
export const TAKEN = 1;
export const TAKEN_KIB = 2;
export const CTRL_BYTES = 12;

/** A message's size as both ends of the mailbox count it: body and blob, in whole KiB. */
export function mailboxKib(km: KernelMessage): number {
  const m = km.message;
  const body = m.tag === 'request' ? m.val.body.length : m.val[0].body.length;
  return Math.ceil((body + (km.lazyLoadBlob?.bytes.length ?? 0)) / 1024);
}

export type WasiMode = 'none' | 'lite' | 'shim';

export interface StartCommand {
  t: 'start';
  /** The jco glue as a classic script, and where V8's code cache for it is (or goes). */
  gluePath: string;
  glueCachePath: string;
  /** Core modules by the file name the glue asks for. */
  modules: Record<string, WasmModule>;
  id: ProcessId;
  node: string;
  wasi: WasiMode;
  /** The cap written into the core modules; used to tell a memory exit from other traps. */
  memoryLimitBytes: number;
}

/** Host -> worker, after start. */
export type ToWorker =
  | { t: 'msg'; km: KernelMessage }
  | { t: 'send-error'; id: bigint; error: SendError; context: Uint8Array | undefined }
  | { t: 'ret'; seq: number; ok: true; val: unknown }
  | { t: 'ret'; seq: number; ok: false; payload?: unknown; hasPayload: boolean; message: string };

export type ExitWire =
  | { kind: 'returned' }
  | { kind: 'error'; message: string }
  | { kind: 'memory'; message: string };

/** Worker -> host. */
export type FromWorker =
  | { t: 'idle' }
  | { t: 'ready'; instantiateMs: number; importMs: number }
  | { t: 'start-failed'; message: string }
  | { t: 'send'; km: KernelMessage; context: Uint8Array | undefined }
  | { t: 'call'; seq: number; op: string; args: unknown[] }
  | { t: 'print'; verbosity: number; text: string }
  | { t: 'exit'; reason: ExitWire };
