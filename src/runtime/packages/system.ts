// The system packages a fake node runs beside the runtime modules, each holding and granting the
// capabilities its Hyperdrive manifest (hyperdrive/packages/*/pkg/manifest.json) gives it, so
// that what answers a process may answer it (Responses are capability-checked): the App Store
// (main, downloads and, with a chain, chain), sign, the Hypermap cachers (with a chain) and the
// processes a fake node does not provide, which say so.

import { type Capability, messagingCap, type ProcessId, systemProcess } from '../../core/types.js';
import type { ZipLimits } from '../../core/zip.js';
import type { NativeProcess } from '../kernel/api.js';
import type { Kernel } from '../kernel/kernel.js';
import { CHAIN_PROCESS, createAppStoreChain } from './app-store/chain.js';
import { createAppStoreDownloads } from './app-store/downloads.js';
import { createAppStore } from './app-store/index.js';
import { HNS_INDEXER_PROCESS } from './hns-indexer/index.js';
import { BINDING_CACHER, createBindingCacher, createHypermapCacher, HYPERMAP_CACHER } from './hypermap-cacher.js';
import { createSign, SIGN_PROCESS } from './sign.js';
import { createUnsupported, UNSUPPORTED } from './unsupported.js';

const HOMEPAGE: ProcessId = { processName: 'homepage', packageName: 'homepage', publisherNode: 'sys' };
const ROOT_PARAMS = JSON.stringify({ root: true });

export interface SystemPackages {
  /** downloads:app-store:sys, sign:sign:sys and the unsupported ones (once eth runs). */
  addLocalParts(): Promise<void>;
  /** With a chain (after hns-indexer): the cachers and chain:app-store:sys. */
  addChainParts(): Promise<void>;
}

/**
 * Start main:app-store:sys now (http-server must run) and return the rest. `systemCaps` is what
 * every runtime module holds; the terminal (root, as Hyperdrive's) may message all of these.
 */
export async function addSystemPackages(
  kernel: Kernel,
  opts: { systemCaps: Capability[]; terminal: ProcessId; zipLimits?: ZipLimits },
): Promise<SystemPackages> {
  const our = kernel.our;
  const at = (p: ProcessId) => ({ node: our, process: p });
  /** A manifest's grant_capabilities: each listed module (by name) and process may message `issuer`. */
  const grantFrom = (issuer: ProcessId, modules: string[], processes: ProcessId[] = []) => {
    for (const target of [...modules.map((m) => systemProcess(m)), ...processes]) kernel.grant(target, [messagingCap(at(issuer))]);
  };
  const { systemCaps, terminal } = opts;

  // main: only it grants http-server (the kit RPC) a capability, as Hyperdrive's app-store
  // manifest: kit reaches chain: and downloads: through main's HTTP API, as on a real node. Its
  // manifest asks for homepage (Uninstall tells it RemoveOther), whoever provides that. Every
  // Hyperdrive process may message itself (downloads sends itself RemoteDownload).
  const appStore = createAppStore({ zipLimits: opts.zipLimits });
  await kernel.addNative(appStore, [...systemCaps, messagingCap(at(appStore.id)), messagingCap(at(HOMEPAGE))]);
  grantFrom(appStore.id, ['http-server', 'terminal', 'vfs'], [HNS_INDEXER_PROCESS, HOMEPAGE]);
  // As Hyperdrive's terminal (its manifest), it holds vfs and eth root: `cat` and the root scripts reach everything.
  kernel.grant(terminal, [messagingCap(at(appStore.id)), { issuer: at(systemProcess('vfs')), params: ROOT_PARAMS }, { issuer: at(systemProcess('eth')), params: ROOT_PARAMS }]);

  // The App Store's processes message each other.
  const storeParts: ProcessId[] = [appStore.id];
  const addStorePart = async (part: NativeProcess, grants: string[]) => {
    await kernel.addNative(part, [...systemCaps, ...storeParts.map((p) => messagingCap(at(p))), messagingCap(at(part.id))]);
    for (const p of storeParts) kernel.grant(p, [messagingCap(at(part.id))]);
    kernel.grant(terminal, [messagingCap(at(part.id))]);
    grantFrom(part.id, grants, storeParts);
    storeParts.push(part.id);
  };

  return {
    async addLocalParts() {
      await addStorePart(createAppStoreDownloads(), ['http-client', 'terminal', 'vfs']);
      // sign signs with the networking key for local processes (its manifest: net and vfs).
      await kernel.addNative(createSign(), [messagingCap(at(systemProcess('net'))), messagingCap(at(systemProcess('vfs')))]);
      grantFrom(SIGN_PROCESS, ['net', 'vfs']);
      kernel.grant(terminal, [messagingCap(at(SIGN_PROCESS))]);
      for (const p of UNSUPPORTED) await kernel.addNative(createUnsupported(p), []);
    },
    async addChainParts() {
      kernel.grant(terminal, [messagingCap(at(HNS_INDEXER_PROCESS)), { issuer: at(HNS_INDEXER_PROCESS), params: ROOT_PARAMS }]);
      // The cachers sign their caches with sign:sign:sys.
      const cachers = [HYPERMAP_CACHER, BINDING_CACHER];
      for (const cacher of [createHypermapCacher(), createBindingCacher()]) {
        await kernel.addNative(cacher, [...systemCaps, messagingCap(at(SIGN_PROCESS)), ...cachers.map((c) => messagingCap(at(c)))]);
        grantFrom(cacher.id, ['eth', 'http-server', 'net', 'terminal', 'timer', 'vfs'], [SIGN_PROCESS, ...cachers]);
      }
      await addStorePart(createAppStoreChain(), ['eth', 'http-client', 'sqlite', 'terminal', 'timer']);
      grantFrom(CHAIN_PROCESS, [], [HNS_INDEXER_PROCESS, SIGN_PROCESS, ...cachers]);
    },
  };
}
