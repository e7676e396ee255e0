// Terminal scripts (book "Scripts", "Packaging Scripts with scripts.json"; interop §11.2): typing
// `name:pkg:pub args` (or an alias of it) runs `/<pkg>:<pub>/pkg/<name>.wasm` as a fresh process
// `<random u64>:<pkg>:<pub>` configured by its entry in `/<pkg>:<pub>/pkg/scripts.json`, and sends
// it `args` as the body of a Request that expects no Response. The script prints what it returns.
// The steps and the errors are those of Hyperdrive's terminal, driven through the same messages
// (VFS Read, kernel GrantCapabilities / InitializeProcess / RunProcess).

import { randomBytes } from 'node:crypto';
import { type KernelApi, SendErrorException } from '../kernel/api.js';
import type { CapabilityJson } from '../kernel/json.js';
import { fromUtf8, jsonBytes, type LazyLoadBlob, NETWORK_PARAMS, type ProcessId, parseProcessId, processIdToString, systemProcess } from '../../core/types.js';

export type ScriptErrorKind = 'FailedToReadWasm' | 'NoScriptsManifest' | 'NoScriptInManifest' | 'InvalidScriptsManifest' | 'KernelUnresponsive';

const DISPLAY: Record<ScriptErrorKind, string> = {
  FailedToReadWasm: 'failed to read script Wasm from VFS',
  NoScriptsManifest: 'no scripts manifest in package',
  NoScriptInManifest: 'script not in scripts.json file',
  InvalidScriptsManifest: 'could not parse scripts.json file',
  KernelUnresponsive: 'kernel unresponsive',
};

/** Why a script did not start; the message is what Hyperdrive's terminal prints after "error calling script: ". */
export class ScriptError extends Error {
  override name = 'ScriptError';
  constructor(
    readonly kind: ScriptErrorKind,
    readonly detail?: string,
  ) {
    super(DISPLAY[kind]);
  }
}

/** One entry of scripts.json (Hyperdrive's DotScriptsEntry). */
export interface ScriptEntry {
  root: boolean;
  public: boolean;
  request_networking: boolean;
  request_capabilities?: Array<string | { process: string; params: unknown }> | null;
  grant_capabilities?: Array<string | { process: string; params: unknown }> | null;
  wit_version?: number | null;
}

const KERNEL = systemProcess('kernel');
const VFS = systemProcess('vfs');
const MESSAGING = '"messaging"';
const STEP_TIMEOUT_SECS = 5;
/**
 * Hyperdrive waits 5 s for RunProcess; starting a component here may first transpile it (seconds
 * on a cold cache), so the wait is as long as the app store's.
 */
const RUN_TIMEOUT_SECS = 300;

/** Parse scripts.json; throws InvalidScriptsManifest when it is not a map of valid entries. */
export function parseScriptsManifest(text: string): Record<string, ScriptEntry> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ScriptError('InvalidScriptsManifest', (e as Error).message);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new ScriptError('InvalidScriptsManifest', 'not a JSON object');
  const isCapList = (x: unknown) =>
    x === undefined ||
    x === null ||
    (Array.isArray(x) && x.every((c) => typeof c === 'string' || (c !== null && typeof c === 'object' && typeof (c as { process?: unknown }).process === 'string')));
  for (const [key, raw] of Object.entries(value as Record<string, unknown>)) {
    const e = raw as Record<string, unknown> | null;
    const ok =
      !!e &&
      typeof e === 'object' &&
      typeof e.root === 'boolean' &&
      typeof e.public === 'boolean' &&
      typeof e.request_networking === 'boolean' &&
      isCapList(e.request_capabilities) &&
      isCapList(e.grant_capabilities) &&
      (e.wit_version === undefined || e.wit_version === null || (typeof e.wit_version === 'number' && Number.isInteger(e.wit_version) && e.wit_version >= 0));
    if (!ok) throw new ScriptError('InvalidScriptsManifest', `entry ${key} needs root, public and request_networking (booleans)`);
  }
  return value as Record<string, ScriptEntry>;
}

/**
 * A capability entry of scripts.json as a capability issued by `issuer`: a process ID string is
 * the messaging capability; `{process, params}` carries params as JSON. Unparseable entries are
 * skipped, as by Hyperdrive.
 */
function capabilityEntry(entry: string | { process: string; params: unknown }): { process: ProcessId; params: string } | undefined {
  try {
    if (typeof entry === 'string') return { process: parseProcessId(entry), params: MESSAGING };
    if (entry.params === undefined) return undefined;
    return { process: parseProcessId(entry.process), params: JSON.stringify(entry.params) };
  } catch {
    return undefined;
  }
}

/**
 * A script's capabilities, as Hyperdrive's terminal gives them: first the grants (capabilities
 * issued by the script, at `scriptAddress`, to the processes it lists), then what it gets: the
 * requested capabilities, messaging the terminal, networking if asked, and with `root` every
 * capability the terminal holds.
 */
export async function scriptCapabilities(kernel: KernelApi, terminal: ProcessId, scriptAddress: string, entry: ScriptEntry): Promise<CapabilityJson[]> {
  const our = kernel.our;
  for (const g of entry.grant_capabilities ?? []) {
    const cap = capabilityEntry(g);
    if (cap)
      kernel.tell(terminal, { node: our, process: KERNEL }, jsonBytes({ GrantCapabilities: { target: processIdToString(cap.process), capabilities: [{ issuer: scriptAddress, params: cap.params }] } }));
  }
  const caps = new Map<string, CapabilityJson>();
  const add = (c: CapabilityJson) => caps.set(`${c.issuer} ${c.params}`, c);
  for (const r of entry.request_capabilities ?? []) {
    const cap = capabilityEntry(r);
    if (cap) add({ issuer: `${our}@${processIdToString(cap.process)}`, params: cap.params });
  }
  add({ issuer: `${our}@${processIdToString(terminal)}`, params: MESSAGING });
  if (entry.request_networking) add({ issuer: `${our}@kernel:distro:sys`, params: NETWORK_PARAMS });
  if (entry.root) {
    const info = await kernel
      .request(terminal, { node: our, process: KERNEL }, jsonBytes({ Debug: { Process: processIdToString(terminal) } }), { timeoutSecs: STEP_TIMEOUT_SECS })
      .catch(() => undefined);
    const mine = info ? (JSON.parse(fromUtf8(info.response.body)) as { Debug?: { Process?: { capabilities?: CapabilityJson[] } | null } }) : undefined;
    for (const c of mine?.Debug?.Process?.capabilities ?? []) add(c);
  }
  return [...caps.values()];
}

/** Run script `script` (`name:pkg:pub`) with `args`, as `terminal`; resolves with the new process's ID. */
export async function runScript(kernel: KernelApi, terminal: ProcessId, script: ProcessId, args: string): Promise<string> {
  const our = kernel.our;
  const pkg = `${script.packageName}:${script.publisherNode}`;
  const ask = async (target: ProcessId, body: unknown, blob?: LazyLoadBlob, timeoutSecs = STEP_TIMEOUT_SECS) =>
    kernel.request(terminal, { node: our, process: target }, jsonBytes(body), { timeoutSecs, blob });
  const vfsRead = async (path: string): Promise<Uint8Array | undefined> => {
    try {
      const r = await ask(VFS, { path, action: 'Read' });
      return fromUtf8(r.response.body) === '"Read"' && r.blob ? r.blob.bytes : undefined;
    } catch (e) {
      if (e instanceof SendErrorException) return undefined;
      throw e;
    }
  };

  // 1. The entry in scripts.json.
  const manifest = await vfsRead(`/${pkg}/pkg/scripts.json`);
  if (!manifest) throw new ScriptError('NoScriptsManifest');
  const entry = parseScriptsManifest(fromUtf8(manifest))[`${script.processName}.wasm`];
  if (!entry) throw new ScriptError('NoScriptInManifest');

  // 2. Its code.
  const wasmPath = `/${pkg}/pkg/${script.processName}.wasm`;
  const wasm = await vfsRead(wasmPath);
  if (!wasm) throw new ScriptError('FailedToReadWasm');

  // 3. A fresh process ID for every run.
  const id = `${randomBytes(8).readBigUInt64BE()}:${pkg}`;

  // 4-5. What it grants and what it gets.
  const caps = await scriptCapabilities(kernel, terminal, `${our}@${id}`, entry);

  // 6. Initialize (OnExit None: a script runs once), give it its capabilities, run it.
  const kernelStep = async (body: unknown, expected: string, blob?: LazyLoadBlob, timeoutSecs?: number) => {
    let answer: string;
    try {
      answer = fromUtf8((await ask(KERNEL, body, blob, timeoutSecs)).response.body);
    } catch (e) {
      if (e instanceof SendErrorException) throw new ScriptError('KernelUnresponsive', e.message);
      throw e;
    }
    if (answer !== JSON.stringify(expected)) throw new ScriptError('KernelUnresponsive', answer);
  };
  await kernelStep(
    {
      InitializeProcess: {
        id,
        wasm_bytes_handle: wasmPath,
        wit_version: entry.wit_version ?? null,
        on_exit: 'None',
        initial_capabilities: [],
        public: entry.public,
      },
    },
    'InitializedProcess',
    { bytes: wasm },
  );
  // The kernel takes initial capabilities only when the sender holds them; the terminal, like
  // Hyperdrive's (which the kernel trusts), grants them instead.
  kernel.tell(terminal, { node: our, process: KERNEL }, jsonBytes({ GrantCapabilities: { target: id, capabilities: caps } }));
  try {
    await kernelStep({ RunProcess: id }, 'StartedProcess', undefined, RUN_TIMEOUT_SECS);
  } catch (e) {
    // Leave no half-started script behind.
    kernel.tell(terminal, { node: our, process: KERNEL }, jsonBytes({ KillProcess: id }));
    throw e;
  }

  // 7. The arguments, as a Request that expects no Response: the script prints its result.
  kernel.tell(terminal, { node: our, process: parseProcessId(id) }, args);
  return id;
}
