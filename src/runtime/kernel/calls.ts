// What a process asks of the kernel through its WIT imports (get/set-state, capabilities,
// on-exit, spawn): the host forwards each call here with the calling process's entry.

import {
  addressToString,
  type Capability,
  capabilityKey,
  isSafeProcessId,
  messagingCap,
  type OnExit,
  type ProcessId,
  processIdToString,
  randomU64,
} from '../../core/types.js';
import type { KernelCallOp } from '../process/host.js';
import { errorMessage, type KernelInternals, type ProcessEntry } from './entry.js';

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
    case 'save-capabilities': {
      const self = addressToString(k.addr(e.id));
      for (const c of args[0] as Capability[]) {
        if (addressToString(c.issuer) === self || e.received.has(capabilityKey(c))) e.caps.add(c);
        else k.log.debug(`${e.key} tried to save a capability it was never given: ${capabilityKey(c)}`);
      }
      k.persistIfNeeded(e);
      return undefined;
    }
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
  const handle = wasmPath.startsWith('/') ? wasmPath : `/${wasmPath}`;
  // A process may only spawn code from its own package's drives.
  const ownPrefix = `/${parent.id.packageName}:${parent.id.publisherNode}/`;
  if (!handle.startsWith(ownPrefix)) throw spawnError('no-file-at-path');
  const wasm = await k.readWasm(handle);
  if (!wasm) throw spawnError('no-file-at-path');
  const id: ProcessId = {
    processName: name ?? randomU64().toString(),
    packageName: parent.id.packageName,
    publisherNode: parent.id.publisherNode,
  };
  const key = processIdToString(id);
  if (!isSafeProcessId(id) || k.table.has(key)) throw spawnError('name-taken');
  const parentAddr = addressToString(k.addr(parent.id));
  const caps = requestCaps.filter((c) => parent.caps.has(c) || addressToString(c.issuer) === parentAddr);
  const child = k.newEntry(id, { isPublic, onExit, wasmHandle: handle, witVersion: 1, caps });
  child.wasm = wasm;
  child.caps.add(messagingCap(k.addr(id)));
  child.caps.add(messagingCap(k.addr(parent.id)));
  parent.caps.add(messagingCap(k.addr(id)));
  k.table.set(key, child);
  for (const [pid, params] of grantCaps) k.grant(pid, [{ issuer: k.addr(id), params }]);
  k.persistIfNeeded(child);
  k.persistIfNeeded(parent);
  try {
    await k.startProcess(child);
  } catch (err) {
    k.removeProcess(child, true);
    k.log.warning(`spawned ${key} failed to start: ${errorMessage(err)}`);
    throw spawnError('no-file-at-path');
  }
  return id;
}
