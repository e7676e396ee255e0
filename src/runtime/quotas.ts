// Every quota a fake node enforces, with its default and the two ways a user sets it: a flag
// (`kit boot-fake-node`, or Hyperdrive's own flag after `--` and in kit-hyperdrive) and an
// environment variable (for every command that boots a node: run-tests, start, kit-hyperdrive).
// Hyperdrive has none of these beyond wasmtime's 4 GiB per memory, its 100-message channels and
// `--max-passthroughs`; a fake node runs on a developer's machine, so each default is high enough
// that what runs on a real node runs here, and low enough that a runaway package cannot take the
// machine. A refusal names the setting that raises it (raiseWith).

import { defaultProcessMemoryBytes, WASM32_MAX_MEMORY_BYTES } from './process/wasm-memory.js';

export interface NodeQuotas {
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
  /** Pending timers one process may have (timer:distro:sys). */
  timersPerProcess: number;
  /** Authenticated connections one node name may hold with us at once; beyond, its oldest closes. */
  maxConnectionsPerPeer: number;
  /** Bytes one peer connection may hold: queued before set-up, being received, or unsent. */
  maxBufferedBytes: number;
  /** Passthroughs served as a router (Hyperdrive's `--max-passthroughs`, 0 there). */
  maxPassthroughs: number;
}

interface QuotaSetting {
  /** The flag's name without `--`. */
  flag: string;
  /** Hyperdrive's own flag: given after `--` to boot-fake-node, and to kit-hyperdrive. */
  hyperdrive?: true;
  env: string;
  /** The flag and variable count MiB; the quota is kept in bytes. */
  mib?: true;
  min: number;
  description: string;
}

const MIB = 1024 * 1024;

export const QUOTA_SETTINGS: Readonly<Record<keyof NodeQuotas, QuotaSetting>> = {
  maxProcesses: { flag: 'max-processes', env: 'KIT_MAX_PROCESSES', min: 1, description: 'Most Wasm processes on the node' },
  maxProcessesPerPackage: { flag: 'max-processes-per-package', env: 'KIT_MAX_PROCESSES_PER_PACKAGE', min: 1, description: 'Most Wasm processes of one package' },
  mailboxMessages: { flag: 'mailbox-messages', env: 'KIT_MAILBOX_MESSAGES', min: 1, description: 'Most Requests waiting in one process\'s mailbox' },
  mailboxBytes: { flag: 'mailbox-mb', env: 'KIT_MAILBOX_MB', mib: true, min: 1, description: 'Most MiB waiting in one process\'s mailbox' },
  processMemoryBytes: { flag: 'process-memory-mb', env: 'KIT_PROCESS_MEMORY_MB', mib: true, min: 1, description: 'Most MiB of memory one process may grow to (at most 4096, wasm32\'s)' },
  timersPerProcess: { flag: 'timers-per-process', env: 'KIT_TIMERS_PER_PROCESS', min: 1, description: 'Most pending timers of one process' },
  maxConnectionsPerPeer: { flag: 'peer-connections', env: 'KIT_PEER_CONNECTIONS', min: 1, description: 'Most connections one peer node may hold with this node' },
  maxBufferedBytes: { flag: 'peer-buffer-mb', env: 'KIT_PEER_BUFFER_MB', mib: true, min: 1, description: 'Most MiB one peer connection may hold unsent or unread (below 10 the largest network messages are refused)' },
  maxPassthroughs: { flag: 'max-passthroughs', hyperdrive: true, env: 'KIT_MAX_PASSTHROUGHS', min: 0, description: 'Most passthroughs this node routes for indirect nodes' },
};

export function defaultQuotas(): NodeQuotas {
  return {
    maxProcesses: 256,
    maxProcessesPerPackage: 128,
    mailboxMessages: 10_000,
    mailboxBytes: 512 * MIB,
    processMemoryBytes: defaultProcessMemoryBytes(),
    timersPerProcess: 10_000,
    maxConnectionsPerPeer: 4,
    maxBufferedBytes: 32 * MIB,
    // Hyperdrive's default is 0; fake routers route for the fake indirect nodes of a test.
    maxPassthroughs: 32,
  };
}

/** What a refusal tells the user to set: `--max-processes or KIT_MAX_PROCESSES`. */
export function raiseWith(key: keyof NodeQuotas): string {
  const s = QUOTA_SETTINGS[key];
  return `${s.hyperdrive ? `-- --${s.flag}` : `--${s.flag}`} or ${s.env}`;
}

export class QuotaConfigError extends Error {
  override name = 'QuotaConfigError';
}

/** The defaults, then the environment, then what the boot asked for (flags, BootOptions). */
export function resolveQuotas(given: Partial<NodeQuotas> = {}, env: NodeJS.ProcessEnv = process.env): NodeQuotas {
  const quotas = defaultQuotas();
  for (const key of Object.keys(QUOTA_SETTINGS) as Array<keyof NodeQuotas>) {
    const s = QUOTA_SETTINGS[key];
    const raw = env[s.env];
    if (raw === undefined || raw === '') continue;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < s.min)
      throw new QuotaConfigError(`${s.env}=${raw}: give a whole number of at least ${s.min}${s.mib ? ' (MiB)' : ''} (${s.description.toLowerCase()})`);
    quotas[key] = s.mib ? n * MIB : n;
  }
  Object.assign(quotas, Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)));
  if (quotas.processMemoryBytes > WASM32_MAX_MEMORY_BYTES)
    throw new QuotaConfigError(`a process's memory limit of ${quotas.processMemoryBytes / MIB} MiB is over wasm32's 4096 MiB (${raiseWith('processMemoryBytes')})`);
  return quotas;
}

/** A flag's value in the quota's unit (bytes for the MiB ones), or undefined when not given. */
export function quotaFromFlag(key: keyof NodeQuotas, value: number | undefined): number | undefined {
  return value === undefined ? undefined : QUOTA_SETTINGS[key].mib ? value * MIB : value;
}

/** The quotas that differ from the defaults, as flags would set them (`timers-per-process 2`), for the boot line. */
export function changedQuotas(q: NodeQuotas): string[] {
  const defaults = defaultQuotas();
  return (Object.keys(QUOTA_SETTINGS) as Array<keyof NodeQuotas>)
    .filter((k) => q[k] !== defaults[k])
    .map((k) => `${QUOTA_SETTINGS[k].flag} ${QUOTA_SETTINGS[k].mib ? q[k] / MIB : q[k]}`);
}
