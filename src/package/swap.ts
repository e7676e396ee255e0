// Replacing one running process's code on a node, keeping its state and capabilities (kit watch).
// Only what kit can send any node over its HTTP RPC, in the kernel's own terms (hd:
// kernel/mod.rs): read the process's entry (Debug Process), KillProcess with "no-revoke" (the
// capabilities other processes hold from it stay), InitializeProcess with the same id, handle,
// on-exit, capabilities and visibility and the new wasm as blob, GrantCapabilities with the same
// capabilities again (a real kernel keeps only the initial capabilities its sender holds itself),
// RunProcess; then write the new wasm where the entry says the code lives, so a reboot runs it too. The process's saved state (set-state) is the state module's, keyed by the
// process id, and no kernel command above touches it.

import { KitError } from '../cli/errors.js';
import { makeMessage, type RpcResponse, sendMessage } from '../node-client/rpc.js';

const KERNEL = 'kernel:distro:sys';
const VFS = 'vfs:distro:sys';

export class SwapError extends KitError {
  override name = 'SwapError';
}

/** A process's kernel entry, as Debug Process answers it. */
export interface ProcessEntry {
  wasm_bytes_handle: string;
  wit_version: number | null;
  on_exit: unknown;
  capabilities: unknown[];
  public: boolean;
}

async function ask(url: string, process: string, body: unknown, opts: { blob?: Uint8Array; metadata?: string } = {}): Promise<unknown> {
  const r = (await sendMessage(url, makeMessage({ process, body: JSON.stringify(body), ...opts }))) as RpcResponse;
  try {
    return JSON.parse(r.body);
  } catch {
    throw new SwapError(`${process} answered with something that is not JSON: ${r.body.slice(0, 300)}`);
  }
}

function tell(url: string, process: string, body: unknown): Promise<unknown> {
  return sendMessage(url, makeMessage({ process, body: JSON.stringify(body), expectsResponse: null }));
}

/** The process's kernel entry, or undefined if no such process exists on the node. */
export async function processEntry(url: string, id: string): Promise<ProcessEntry | undefined> {
  const answer = (await ask(url, KERNEL, { Debug: { Process: id } })) as { Debug?: { Process?: ProcessEntry | null } };
  const entry = answer?.Debug?.Process;
  if (entry === undefined) throw new SwapError(`the kernel's answer to Debug Process is not one kit knows: ${JSON.stringify(answer).slice(0, 300)}`);
  return entry ?? undefined;
}

/** A capability list as the kernel reports it: bare capabilities, or [capability, signature] pairs. */
function bareCapabilities(caps: unknown[]): unknown[] {
  return caps.map((c) => (Array.isArray(c) && c.length === 2 && typeof c[0] === 'object' ? c[0] : c));
}

export interface PersistResult {
  /** False when the VFS refused the write: the node runs the new code, but a reboot brings back the old. */
  wroteVfs: boolean;
  vfsError?: string;
}

export interface SwapResult {
  /** Writes the new wasm to the VFS (not needed to run it; call it once the reload is reported). */
  persist(): Promise<PersistResult>;
}

/**
 * Replaces process `id`'s code with `wasm` and resolves once the new code runs; throws SwapError
 * if the node has no such process or refuses a step.
 */
export async function swapProcess(url: string, id: string, wasm: Uint8Array): Promise<SwapResult> {
  const entry = await processEntry(url, id);
  if (!entry) throw new SwapError(`${id} is not running on the node at ${url}`);
  const caps = bareCapabilities(entry.capabilities ?? []);

  await ask(url, KERNEL, { KillProcess: id }, { metadata: 'no-revoke' });
  const init = await ask(
    url,
    KERNEL,
    {
      InitializeProcess: {
        id,
        wasm_bytes_handle: entry.wasm_bytes_handle,
        wit_version: entry.wit_version ?? null,
        on_exit: entry.on_exit,
        initial_capabilities: caps,
        public: entry.public,
      },
    },
    { blob: wasm },
  );
  if (init !== 'InitializedProcess') throw new SwapError(`the kernel did not initialize ${id}: ${JSON.stringify(init)}`, { hint: "the node's terminal says why" });
  if (caps.length > 0) await tell(url, KERNEL, { GrantCapabilities: { target: id, capabilities: caps } });
  const run = await ask(url, KERNEL, { RunProcess: id });
  if (run !== 'StartedProcess') throw new SwapError(`the kernel did not start ${id}: ${JSON.stringify(run)}`, { hint: "the node's terminal says why (e.g. a trap in init)" });

  // Last, as it is not needed to run: the code where the entry says it lives, for a reboot.
  return {
    async persist() {
      const written = (await ask(url, VFS, { path: entry.wasm_bytes_handle, action: 'Write' }, { blob: wasm })) as Record<string, unknown>;
      if (written && typeof written === 'object' && 'Err' in written) return { wroteVfs: false, vfsError: JSON.stringify(written.Err) };
      return { wroteVfs: true };
    },
  };
}

/** Stops process `id` (KillProcess, capabilities revoked as for any kill). */
export async function killProcess(url: string, id: string): Promise<void> {
  await ask(url, KERNEL, { KillProcess: id });
}
