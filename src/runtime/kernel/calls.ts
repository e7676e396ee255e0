// What a process asks of the kernel through its WIT imports (get/set-state, capabilities,
// on-exit, spawn): the host forwards each call here with the calling process's entry.

import {
  addressToString,
  type Capability,
  isSafeProcessId,
  jsonBytes,
  messagingCap,
  type OnExit,
  type ProcessId,
  parseJsonBytes,
  processIdToString,
  randomU64,
  safeNameRule,
  systemProcess,
} from '../../core/types.js';
import { SendErrorException } from './api.js';
import type { KernelCallOp } from '../process/host.js';
import { errorMessage, type KernelInternals, type ProcessEntry } from './entry.js';

const KERNEL = systemProcess('kernel');
const VFS = systemProcess('vfs');

export async function processCall(k: KernelInternals, e: ProcessEntry, op: KernelCallOp, args: unknown[]): Promise<unknown> {
  switch (op) {
    case 'get-state':
      return k.stateStore.get(e.key);
    case 'set-state':
      k.stateStore.set(e.key, args[0] as Uint8Array);
      return undefined;
    case 'clear-state':
      k.stateStore.delete(e.key);
      return undefined;
    case 'our-capabilities':
      return e.caps.list();
    case 'save-capabilities':
      // Any capability, as Hyperdrive's save_capabilities signs and adds whatever it is given
      // (standard_host_v1.rs); what a process may do with it is checked where it is used.
      for (const c of args[0] as Capability[]) e.caps.add(c);
      k.persistIfNeeded(e);
      return undefined;
    case 'drop-capabilities':
      for (const c of args[0] as Capability[]) e.caps.delete(c);
      k.persistIfNeeded(e);
      return undefined;
    case 'get-on-exit':
      return e.onExit;
    case 'set-on-exit':
      e.onExit = args[0] as OnExit;
      k.persistIfNeeded(e);
      if (e.onExit.tag === 'none') k.store?.remove(e.key);
      return undefined;
    case 'spawn':
      return spawn(k, e, args);
    default:
      throw new Error(`unknown kernel call ${op as string}`);
  }
}

/**
 * spawn, in the order of Hyperdrive's (standard_host_v1.rs): read the wasm through the VFS as the
 * parent; check the name (an invalid one traps the parent); InitializeProcess, whose
 * "already exists" spawn ignores; the grants; RunProcess, which finds the existing process if the
 * name was taken (it gets a stray "run" Request) and returns Ok(its id); parent and child may then
 * message each other. Only NoFileAtPath and NameTaken come back as errors.
 */
async function spawn(k: KernelInternals, parent: ProcessEntry, args: unknown[]): Promise<ProcessId> {
  const [name, wasmPath, onExit, requestCaps, grantCaps, isPublic] = args as [
    string | undefined,
    string,
    OnExit,
    Capability[],
    Array<[ProcessId, string]>,
    boolean,
  ];
  const spawnError = (payload: 'name-taken' | 'no-file-at-path') => Object.assign(new Error(payload), { payload });

  // Any path the parent may read (its own drives, or others' through a capability or root),
  // normalised and checked by the VFS as for any Read; the parent needs vfs's messaging capability.
  let wasm: Uint8Array | undefined;
  try {
    const r = await k.request(parent.id, k.addr(VFS), jsonBytes({ path: wasmPath, action: 'Read' }), { timeoutSecs: 5 });
    if (parseJsonBytes(r.response.body) === 'Read') wasm = r.blob?.bytes;
  } catch (e) {
    // no answer, or not a VfsResponse: as Hyperdrive, the file is not there for this process
    if (!(e instanceof SendErrorException)) k.log.debug(`spawn: the VFS answer for ${wasmPath} was not understood: ${errorMessage(e)}`);
  }
  if (!wasm) throw spawnError('no-file-at-path');

  const id: ProcessId = {
    processName: name ?? randomU64().toString(),
    packageName: parent.id.packageName,
    publisherNode: parent.id.publisherNode,
  };
  const key = processIdToString(id);
  if (!isSafeProcessId(id)) throw new Error(`spawn: '${id.processName}' is not a valid process name: use ${safeNameRule()}`);

  const parentAddr = addressToString(k.addr(parent.id));
  const caps = requestCaps.filter((c) => parent.caps.has(c) || addressToString(c.issuer) === parentAddr);
  if (!k.table.has(key)) {
    const over = k.overProcessLimit(id);
    if (over) {
      k.print(0, `kernel: cannot spawn ${key}: ${over}`);
      throw spawnError('no-file-at-path');
    }
    const child = k.newEntry(id, { isPublic, onExit, wasmHandle: wasmPath, witVersion: parent.witVersion ?? 1, caps });
    child.wasm = wasm;
    child.caps.add(messagingCap(k.addr(id)));
    k.table.set(key, child);
    k.persistIfNeeded(child);
  }
  for (const [pid, params] of grantCaps) k.grant(pid, [{ issuer: k.addr(id), params }]);

  const child = k.table.get(key);
  if (!child || child.native || !child.wasm) throw spawnError('no-file-at-path');
  // Hyperdrive adds these after the child runs; before is the same minus a race for the child.
  child.caps.add(messagingCap(k.addr(parent.id)));
  parent.caps.add(messagingCap(k.addr(id)));
  k.persistIfNeeded(child);
  k.persistIfNeeded(parent);
  if (child.started) {
    k.tell(KERNEL, k.addr(id), 'run');
    return id;
  }
  try {
    await k.startProcess(child);
  } catch (err) {
    // Hyperdrive compiles the child in its own task after RunProcess has answered: spawn returns
    // Ok and the child is gone.
    k.print(0, `process ${addressToString(k.addr(id))} ended with error:\n${errorMessage(err)}`);
    if (k.table.get(key) === child) k.removeProcess(child, false);
  }
  return id;
}
