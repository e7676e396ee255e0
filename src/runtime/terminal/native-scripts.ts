// The scripts a real node ships in its terminal:sys and hns-indexer:sys packages (book "Terminal";
// hyperdrive/packages/terminal/*/src/lib.rs, hyperdrive/packages/hns-indexer/*/src/lib.rs), run
// natively here but the way Hyperdrive runs them: each run is a fresh process `<u64>:<package>`
// holding exactly what its pkg/scripts.json entry gives (scripts.ts scriptCapabilities: root
// scripts get all the terminal's capabilities), sending the same Requests as the real script and
// printing what it returns, and gone when it is done. Both packages' scripts.json are written to
// the VFS at boot, so `cat terminal:sys/pkg/scripts.json` shows them as on a real node.
// (m, top, cat, echo, alias, kill, hi and help run inside the terminal itself, index.ts; m runs
// here, as `<u64>:terminal:sys` attaching all its capabilities, as the real `m` does.)

import type { KernelApi, NativeProcess, Reply, RequestOptions } from '../kernel/api.js';
import { capabilityFromJson } from '../kernel/json.js';
import { type Address, type Capability, jsonBytes, type ProcessId, randomU64, systemProcess } from '../../core/types.js';
import { type ScriptEntry, scriptCapabilities } from './scripts.js';
import { SYSTEM_SCRIPTS } from './system-scripts.js';

/** What a running native script may do: send as itself, print, know its capabilities. */
export interface ScriptRun {
  readonly kernel: KernelApi;
  readonly id: ProcessId;
  readonly our: string;
  /** Send as the script; Address or a process on our node. */
  request(target: Address | ProcessId, body: string | Uint8Array, timeoutSecs: number, opts?: Omit<RequestOptions, 'timeoutSecs'>): Promise<Reply>;
  /** A println! while the script runs (the returned string is printed at the end). */
  print(text: string): void;
  /** Everything the script holds (`our_capabilities()`). */
  readonly capabilities: Capability[];
  /** Stay alive (to take a Response) after returning, until `p` settles. */
  linger(p: Promise<unknown>): void;
}

export interface NativeScript {
  entry: ScriptEntry;
  run(s: ScriptRun, args: string): Promise<string>;
}

const ETH = 'eth:distro:sys';
const ETH_ROOT = { process: ETH, params: { root: true } };
const NET = 'net:distro:sys';
const HNS = 'hns-indexer:hns-indexer:sys';
/** An entry with its keys in the order of Hyperdrive's files. */
const entry = (e: Partial<ScriptEntry> & { root: boolean }): ScriptEntry => {
  const out: ScriptEntry = { root: e.root, public: e.public ?? false, request_networking: e.request_networking ?? false };
  if (e.request_capabilities) out.request_capabilities = e.request_capabilities;
  if (e.grant_capabilities) out.grant_capabilities = e.grant_capabilities;
  out.wit_version = 1;
  return out;
};

/**
 * The scripts.json entries, as in Hyperdrive 1.9.2's packages (facts: names, flags, capabilities).
 * namehash-to-name differs: Hyperdrive lists it but ships no Wasm for it (its old one asked net for a
 * name net no longer knows); here it asks hns-indexer, so it requests and grants that.
 */
export const SCRIPTS_JSON: Record<string, Record<string, ScriptEntry>> = {
  'terminal:sys': {
    'add-node-provider.wasm': entry({ root: true, request_capabilities: [ETH, ETH_ROOT], grant_capabilities: [ETH] }),
    'add-rpcurl-provider.wasm': entry({ root: true, request_capabilities: [ETH, ETH_ROOT], grant_capabilities: [ETH] }),
    'alias.wasm': entry({ root: false, request_capabilities: ['terminal:terminal:sys'], grant_capabilities: [] }),
    'cat.wasm': entry({ root: false, request_capabilities: ['vfs:distro:sys', { process: 'vfs:distro:sys', params: { root: true } }], grant_capabilities: [] }),
    'clear-state.wasm': entry({ root: false, request_capabilities: ['state:distro:sys'], grant_capabilities: ['state:distro:sys'] }),
    'echo.wasm': entry({ root: false, request_capabilities: [], grant_capabilities: [] }),
    'get-providers.wasm': entry({ root: true, request_capabilities: [ETH, ETH_ROOT], grant_capabilities: [ETH] }),
    'help.wasm': entry({ root: false, request_capabilities: [], grant_capabilities: [] }),
    'hfetch.wasm': entry({ root: true, grant_capabilities: [ETH, 'kernel:distro:sys', NET] }),
    'hi.wasm': entry({ root: false, request_networking: true, request_capabilities: [NET], grant_capabilities: [NET] }),
    'kill.wasm': entry({ root: true }),
    'm.wasm': entry({ root: true, public: true, request_networking: true }),
    'namehash-to-name.wasm': entry({ root: false, request_capabilities: [NET, HNS], grant_capabilities: [NET, HNS] }),
    'net-diagnostics.wasm': entry({ root: false, request_capabilities: [NET], grant_capabilities: [NET] }),
    'peer.wasm': entry({ root: false, request_capabilities: [NET], grant_capabilities: [NET] }),
    'peers.wasm': entry({ root: false, request_capabilities: [NET], grant_capabilities: [NET] }),
    'remove-provider.wasm': entry({ root: true, request_capabilities: [ETH, ETH_ROOT], grant_capabilities: [ETH] }),
    'top.wasm': entry({ root: true }),
  },
  'hns-indexer:sys': {
    'get-block.wasm': entry({ root: false, request_capabilities: [ETH], grant_capabilities: [ETH] }),
    'reset.wasm': entry({ root: false, request_capabilities: [HNS, { process: HNS, params: { root: true } }], grant_capabilities: [HNS] }),
    'node-info.wasm': entry({ root: false, request_capabilities: [HNS], grant_capabilities: [HNS] }),
    'state.wasm': entry({ root: false, request_capabilities: [HNS], grant_capabilities: [HNS] }),
  },
};

/** The native script `name:pkg:pub`, if there is one. */
export function nativeScript(pid: ProcessId): NativeScript | undefined {
  const pkg = `${pid.packageName}:${pid.publisherNode}`;
  const e = SCRIPTS_JSON[pkg]?.[`${pid.processName}.wasm`];
  const run = SYSTEM_SCRIPTS[`${pid.processName}:${pkg}`] as NativeScript['run'] | undefined;
  return e && run ? { entry: e, run } : undefined;
}

/** Write both packages' pkg/scripts.json into the VFS (as the terminal, which holds vfs root). */
export async function writeScriptsJson(kernel: KernelApi, terminal: ProcessId): Promise<void> {
  const vfs = { node: kernel.our, process: systemProcess('vfs') };
  for (const [pkg, entries] of Object.entries(SCRIPTS_JSON)) {
    const ask = (path: string, action: string, blob?: Uint8Array) =>
      kernel.request(terminal, vfs, jsonBytes({ path, action }), { timeoutSecs: 30, blob: blob && { bytes: blob } });
    await ask(`/${pkg}/pkg`, 'CreateDrive');
    await ask(`/${pkg}/pkg/scripts.json`, 'Write', Buffer.from(`${JSON.stringify(entries, null, 4)}\n`));
  }
}

/**
 * Run native script `pid` with `args` as a fresh `<u64>:<pkg>` process; `print` shows a line (the
 * terminal prefixes the package). Resolves once it is done, with what it printed last.
 */
export async function runNativeScript(kernel: KernelApi, terminal: ProcessId, pid: ProcessId, args: string, print: (text: string) => void): Promise<void> {
  const script = nativeScript(pid);
  if (!script) throw new Error(`${pid.processName}:${pid.packageName}:${pid.publisherNode} is not a native script`);
  if (!kernel.spawnNative || !kernel.exitNative) throw new Error('this kernel cannot run native scripts');
  const id: ProcessId = { processName: randomU64().toString(), packageName: pid.packageName, publisherNode: pid.publisherNode };
  const caps = (await scriptCapabilities(kernel, terminal, `${kernel.our}@${id.processName}:${id.packageName}:${id.publisherNode}`, script.entry)).map(capabilityFromJson);
  const process: NativeProcess = { id, isPublic: script.entry.public, handle() {} };
  await kernel.spawnNative(process, caps);
  let lingering: Promise<unknown> = Promise.resolve();
  const run: ScriptRun = {
    kernel,
    id,
    our: kernel.our,
    capabilities: caps,
    request: (target, body, timeoutSecs, opts = {}) =>
      kernel.request(id, 'process' in target ? target : { node: kernel.our, process: target }, body, { ...opts, timeoutSecs }),
    print,
    linger: (p) => {
      lingering = p.catch(() => {});
    },
  };
  try {
    const out = await script.run(run, args);
    if (out !== '') print(out);
  } finally {
    void lingering.then(() => kernel.exitNative?.(id));
  }
}
