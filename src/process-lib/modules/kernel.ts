// `kernel:distro:sys` commands (book: Kernel API). Only processes holding the kernel's messaging
// capability may send them; most processes use spawn() instead. ProcessIds and Addresses are strings
// in this JSON.

import type { Capability, OnExit, ProcessId } from '../../core/types.js';
import { UnexpectedResponseError } from '../errors.js';
import { addressToString, processIdToString } from '../ids.js';
import { fromUtf8 } from '../json.js';
import { Request } from '../message.js';
import { ourModule } from './call.js';

export interface CapabilityJson {
  issuer: string;
  params: string;
}

export type OnExitJson = 'None' | 'Restart' | { Requests: unknown[] };

export type KernelCommand =
  | {
      InitializeProcess: {
        id: string;
        wasm_bytes_handle: string;
        wit_version: number | null;
        on_exit: OnExitJson;
        initial_capabilities: CapabilityJson[];
        public: boolean;
      };
    }
  | { GrantCapabilities: { target: string; capabilities: CapabilityJson[] } }
  | { DropCapabilities: { target: string; capabilities: CapabilityJson[] } }
  | { RunProcess: string }
  | { KillProcess: string }
  | { Debug: 'ProcessMap' | { Process: string } | { HasCap: { on: string; cap: CapabilityJson } } };

export function capabilityJson(c: Capability): CapabilityJson {
  return { issuer: addressToString(c.issuer), params: c.params };
}

export function onExitJson(o: OnExit): OnExitJson {
  if (o.tag === 'none') return 'None';
  if (o.tag === 'restart') return 'Restart';
  throw new TypeError('kernel commands from this library take OnExit none or restart');
}

function send(command: KernelCommand, timeout = 5, blob?: Uint8Array): unknown {
  const r = Request.to(ourModule('kernel')).json(command);
  if (blob) r.blob({ bytes: blob, mime: undefined });
  const text = fromUtf8(r.sendAndAwaitResponse(timeout).body);
  return JSON.parse(text);
}

function tell(command: KernelCommand): void {
  Request.to(ourModule('kernel')).json(command).send();
}

/** Give `target` capabilities (needs the kernel capability). No answer comes back. */
export function grantCapabilities(target: ProcessId, caps: Capability[]): void {
  tell({ GrantCapabilities: { target: processIdToString(target), capabilities: caps.map(capabilityJson) } });
}

export function dropCapabilities(target: ProcessId, caps: Capability[]): void {
  tell({ DropCapabilities: { target: processIdToString(target), capabilities: caps.map(capabilityJson) } });
}

/** Start a process that was initialized; true if the kernel answered StartedProcess. */
export function runProcess(id: ProcessId): boolean {
  return send({ RunProcess: processIdToString(id) }) === 'StartedProcess';
}

/** Stop a process for good (no restart); its capabilities are revoked. */
export function killProcess(id: ProcessId): void {
  const v = send({ KillProcess: processIdToString(id) });
  if (v === null || typeof v !== 'object' || !('KilledProcess' in v))
    throw new UnexpectedResponseError('kernel', '{"KilledProcess": ...}', v);
}

export interface ProcessInfo {
  wasm_bytes_handle: string;
  wit_version: number | null;
  on_exit: OnExitJson;
  capabilities: CapabilityJson[];
  public: boolean;
}

/** What the kernel knows of a process, or undefined if it does not run here. */
export function processInfo(id: ProcessId): ProcessInfo | undefined {
  const v = send({ Debug: { Process: processIdToString(id) } }) as { Debug?: { Process?: ProcessInfo | null } };
  if (v?.Debug === undefined || !('Process' in v.Debug))
    throw new UnexpectedResponseError('kernel', '{"Debug": {"Process": ...}}', v);
  return v.Debug.Process ?? undefined;
}
