// The node's resource limits: how many processes, how much each process's mailbox may hold, and
// how much linear memory one process may grow to. Hyperdrive has none of these beyond wasmtime's
// 4 GiB per memory and a 100-message channel that makes the kernel wait; a fake node runs on a
// developer's machine, so each limit is set high enough that what runs on a real node runs here,
// and low enough that a runaway package cannot take the machine. Each can be set per boot
// (BootOptions.limits) or by environment variable for every command that boots a node.

import { defaultProcessMemoryBytes, WASM32_MAX_MEMORY_BYTES } from '../process/wasm-memory.js';

export interface KernelLimits {
  /** Wasm processes on the node (runtime modules and native system processes not counted). */
  maxProcesses: number;
  /** Wasm processes of one package. */
  maxProcessesPerPackage: number;
  /** Requests waiting in one process's mailbox (delivered, not yet received). */
  mailboxMessages: number;
  /** Bytes (bodies and blobs) waiting in one process's mailbox. */
  mailboxBytes: number;
  /** Linear memory one process may grow to. */
  processMemoryBytes: number;
}

const MIB = 1024 * 1024;

/** The environment variables that override the defaults, by limit. */
export const LIMIT_ENV = {
  maxProcesses: 'KIT_MAX_PROCESSES',
  maxProcessesPerPackage: 'KIT_MAX_PROCESSES_PER_PACKAGE',
  mailboxMessages: 'KIT_MAILBOX_MESSAGES',
  mailboxBytes: 'KIT_MAILBOX_MB',
  processMemoryBytes: 'KIT_PROCESS_MEMORY_MB',
} as const satisfies Record<keyof KernelLimits, string>;

export function defaultLimits(): KernelLimits {
  return {
    maxProcesses: 256,
    maxProcessesPerPackage: 128,
    mailboxMessages: 10_000,
    mailboxBytes: 512 * MIB,
    processMemoryBytes: defaultProcessMemoryBytes(),
  };
}

export class LimitConfigError extends Error {
  override name = 'LimitConfigError';
}

/** The defaults, then the environment, then what the boot asked for. */
export function resolveLimits(given: Partial<KernelLimits> = {}, env: NodeJS.ProcessEnv = process.env): KernelLimits {
  const limits = defaultLimits();
  for (const key of Object.keys(LIMIT_ENV) as Array<keyof KernelLimits>) {
    const raw = env[LIMIT_ENV[key]];
    if (raw === undefined || raw === '') continue;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1)
      throw new LimitConfigError(`${LIMIT_ENV[key]}=${raw} is not a whole number above 0`);
    limits[key] = key === 'mailboxBytes' || key === 'processMemoryBytes' ? n * MIB : n;
  }
  Object.assign(limits, Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)));
  if (limits.processMemoryBytes > WASM32_MAX_MEMORY_BYTES)
    throw new LimitConfigError(
      `a process's memory limit of ${limits.processMemoryBytes / MIB} MiB is over wasm32's 4096 MiB (${LIMIT_ENV.processMemoryBytes})`,
    );
  return limits;
}
