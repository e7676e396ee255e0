// The Kernel API (`kernel:distro:sys`, interop §10.4): InitializeProcess, RunProcess,
// KillProcess, Grant/DropCapabilities, SetOnExit, Debug. JSON in, JSON out.

import {
  addressToString,
  fromUtf8,
  isSafeProcessId,
  jsonBytes,
  type KernelMessage,
  messagingCap,
  parseProcessId,
  processIdToString,
  systemProcess,
  utf8,
} from '../../core/types.js';
import { errorMessage, type KernelInternals } from './entry.js';
import { type CapabilityJson, capabilityFromJson, type OnExitJson, onExitFromJson } from './json.js';

const KERNEL = systemProcess('kernel');

export async function runKernelCommand(k: KernelInternals, km: KernelMessage): Promise<void> {
  if (km.message.tag !== 'request') return;
  const expects = km.message.val.expectsResponse !== undefined;
  // A failure's reason rides along as a text/plain blob (Hyperdrive's body has none; callers that
  // do not look, ignore it): the App Store passes it on to kit.
  const reply = (value: unknown, reason?: string) => {
    if (expects) k.respond(KERNEL, km, jsonBytes(value), reason === undefined ? undefined : { mime: 'text/plain', bytes: utf8(reason) });
  };
  let cmd: unknown;
  try {
    cmd = JSON.parse(fromUtf8(km.message.val.body));
  } catch {
    k.print(0, `kernel: ignoring a command from ${addressToString(km.source)} that is not JSON`);
    return;
  }
  const senderKey = processIdToString(km.source.process);
  const sender = k.table.get(senderKey);
  const c = cmd as Record<string, unknown>;

  if (c.InitializeProcess) {
    const ip = c.InitializeProcess as {
      id: string;
      wasm_bytes_handle: string;
      wit_version?: number | null;
      on_exit: OnExitJson;
      initial_capabilities: CapabilityJson[];
      public: boolean;
    };
    try {
      const id = parseProcessId(ip.id);
      const key = processIdToString(id);
      if (!km.lazyLoadBlob) throw new Error('process startup requires bytes (the wasm as the blob)');
      if (!isSafeProcessId(id)) throw new Error(`${key} is not a Hypermap-safe process ID`);
      const fromKernel = senderKey === 'kernel:distro:sys';
      const initial = (ip.initial_capabilities ?? []).map(capabilityFromJson);
      const caps = initial.filter((cap) => fromKernel || sender?.caps.has(cap));
      if (caps.length < initial.length)
        k.print(0, `kernel: InitializeProcess caller ${senderKey} doesn't have ${initial.length - caps.length} of the capabilities it passed`);
      // The initializer gets the new process's messaging capability, even if it then fails.
      const msgCap = messagingCap(k.addr(id));
      if (sender) {
        sender.caps.add(msgCap);
        k.persistIfNeeded(sender);
      }
      if (k.table.has(key)) throw new Error(`process with ID ${key} already exists`);
      const over = k.overProcessLimit(id);
      if (over) throw new Error(over);
      const entry = k.newEntry(id, {
        isPublic: !!ip.public,
        onExit: onExitFromJson(ip.on_exit),
        wasmHandle: ip.wasm_bytes_handle,
        witVersion: ip.wit_version ?? undefined,
        caps,
      });
      entry.wasm = km.lazyLoadBlob.bytes;
      entry.caps.add(msgCap);
      k.table.set(key, entry);
      k.persistIfNeeded(entry);
      reply('InitializedProcess');
    } catch (e) {
      k.print(0, `kernel: InitializeProcess failed: ${errorMessage(e)}`);
      reply('InitializeProcessError', errorMessage(e));
    }
    return;
  }
  if (c.RunProcess !== undefined) {
    const key = String(c.RunProcess);
    const e = k.table.get(key);
    if (!e || e.native || !e.wasm) {
      k.print(0, `kernel: no such process ${key} to run`);
      reply('RunProcessError');
      return;
    }
    if (e.started) {
      // Hyperdrive sends a running process another "run" Request, which it receives like any other.
      k.tell(KERNEL, k.addr(e.id), 'run');
      reply('StartedProcess');
      return;
    }
    try {
      await k.startProcess(e);
      reply('StartedProcess');
    } catch (err) {
      k.print(0, `kernel: could not start ${key}: ${errorMessage(err)}`);
      reply('RunProcessError', `could not start ${key}: ${errorMessage(err)}`);
    }
    return;
  }
  if (c.KillProcess !== undefined) {
    const key = String(c.KillProcess);
    const revoke = km.message.val.metadata !== 'no-revoke';
    if (await k.killProcess(key, revoke)) reply({ KilledProcess: key });
    return;
  }
  if (c.GrantCapabilities) {
    const g = c.GrantCapabilities as { target: string; capabilities: CapabilityJson[] };
    k.grant(parseProcessId(g.target), g.capabilities.map(capabilityFromJson));
    return;
  }
  if (c.DropCapabilities) {
    const d = c.DropCapabilities as { target: string; capabilities: CapabilityJson[] };
    const e = k.table.get(d.target);
    if (e) {
      for (const cap of d.capabilities.map(capabilityFromJson)) e.caps.delete(cap);
      k.persistIfNeeded(e);
    }
    return;
  }
  if (c.SetOnExit) {
    const s = c.SetOnExit as { target: string; on_exit: OnExitJson };
    const e = k.table.get(s.target);
    if (e) {
      e.onExit = onExitFromJson(s.on_exit);
      k.persistIfNeeded(e);
    }
    return;
  }
  if (c.Debug !== undefined) {
    const d = c.Debug as unknown;
    if (d === 'ProcessMap') {
      const map: Record<string, unknown> = {};
      for (const e of k.table.values()) map[e.key] = k.describe(e);
      reply({ Debug: { ProcessMap: map } });
    } else if (d && typeof d === 'object' && 'Process' in d) {
      const e = k.table.get(String((d as { Process: string }).Process));
      reply({ Debug: { Process: e ? k.describe(e) : null } });
    } else if (d && typeof d === 'object' && 'HasCap' in d) {
      const h = (d as { HasCap: { on: string; cap: CapabilityJson } }).HasCap;
      const e = k.table.get(h.on);
      reply({ Debug: { HasCap: e ? e.caps.has(capabilityFromJson(h.cap)) : null } });
    }
    return;
  }
  if (cmd === 'Shutdown') {
    k.requestShutdown(senderKey);
    return;
  }
  if (cmd === 'Booted') return; // the runtime's own: processes here run as they are started
  k.print(0, `kernel: unknown command from ${addressToString(km.source)}: ${fromUtf8(km.message.val.body).slice(0, 200)}`);
}
