// The system packages a fake node runs beside the runtime modules, each holding and granting the
// capabilities its Hyperdrive manifest (hyperdrive/packages/*/pkg/manifest.json) gives it, so
// that what answers a process may answer it (Responses are capability-checked): the homepage,
// the App Store (main, downloads and, with a chain, chain), settings, sign, the Hypermap cachers
// (with a chain) and the processes a fake node does not provide, which say so.

import { type Capability, messagingCap, type ProcessId, systemProcess } from '../../core/types.js';
import type { ZipLimits } from '../../core/zip.js';
import type { NativeProcess } from '../kernel/api.js';
import type { Kernel, StateStore } from '../kernel/kernel.js';
import type { NotificationsModule } from '../modules/notifications.js';
import { CHAIN_PROCESS, createAppStoreChain } from './app-store/chain.js';
import { createAppStoreDownloads } from './app-store/downloads.js';
import { createAppStore } from './app-store/index.js';
import { HNS_INDEXER_PROCESS } from './hns-indexer/index.js';
import { createHomepage, HOMEPAGE_PROCESS } from './homepage/index.js';
import { createSettings, SETTINGS_PROCESS } from './settings/index.js';
import { BINDING_CACHER, createBindingCacher, createHypermapCacher, HYPERMAP_CACHER } from './hypermap-cacher.js';
import { createSign, SIGN_PROCESS } from './sign.js';
import { createUnsupported, UNSUPPORTED } from './unsupported.js';

const HOMEPAGE = HOMEPAGE_PROCESS;
const ROOT_PARAMS = JSON.stringify({ root: true });

export interface SystemPackages {
  /** downloads:app-store:sys, settings:settings:sys, sign:sign:sys and the unsupported ones (once eth runs). */
  addLocalParts(): Promise<void>;
  /** With a chain (after hns-indexer): the cachers and chain:app-store:sys. */
  addChainParts(): Promise<void>;
}

/**
 * Start homepage:homepage:sys and main:app-store:sys now (http-server must run) and return the
 * rest. `systemCaps` is what every runtime module holds; the terminal (root, as Hyperdrive's) may
 * message all of these. `state` keeps the homepage's process state (its app order).
 */
export async function addSystemPackages(
  kernel: Kernel,
  opts: { systemCaps: Capability[]; terminal: ProcessId; state: StateStore; notifications: NotificationsModule; zipLimits?: ZipLimits },
): Promise<SystemPackages> {
  const our = kernel.our;
  const at = (p: ProcessId) => ({ node: our, process: p });
  /** A manifest's grant_capabilities: each listed module (by name) and process may message `issuer`. */
  const grantFrom = (issuer: ProcessId, modules: string[], processes: ProcessId[] = []) => {
    for (const target of [...modules.map((m) => systemProcess(m)), ...processes]) kernel.grant(target, [messagingCap(at(issuer))]);
  };
  const { systemCaps, terminal } = opts;

  // homepage serves `/`; it comes first, as the App Store and settings add themselves to it. Its
  // manifest asks for http-server, notifications and vfs, and grants http-server and notifications.
  const homepageKey = 'homepage:homepage:sys';
  const homepage = createHomepage({
    state: { get: () => opts.state.get(homepageKey), set: (bytes) => opts.state.set(homepageKey, bytes) },
    notifications: opts.notifications,
  });
  await kernel.addNative(homepage, [...systemCaps, messagingCap(at(HOMEPAGE))]);
  grantFrom(HOMEPAGE, ['http-server', 'notifications']);

  // main: only it grants http-server (the kit RPC) a capability, as Hyperdrive's app-store
  // manifest: kit reaches chain: and downloads: through main's HTTP API, as on a real node. Its
  // manifest asks for homepage (Uninstall tells it RemoveOther), whoever provides that. Every
  // Hyperdrive process may message itself (downloads sends itself RemoteDownload).
  const appStore = createAppStore({ zipLimits: opts.zipLimits });
  await kernel.addNative(appStore, [...systemCaps, messagingCap(at(appStore.id)), messagingCap(at(HOMEPAGE)), { issuer: at(HOMEPAGE), params: '"RemoveOther"' }]);
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
      // settings: what its manifest asks for (eth, vfs and hns-indexer roots, homepage's
      // SetStylesheet, kernel, net) and grants.
      await kernel.addNative(createSettings(), [
        ...systemCaps,
        messagingCap(at(SETTINGS_PROCESS)),
        messagingCap(at(HOMEPAGE)),
        { issuer: at(HOMEPAGE), params: '"SetStylesheet"' },
        messagingCap(at(HNS_INDEXER_PROCESS)),
        { issuer: at(HNS_INDEXER_PROCESS), params: ROOT_PARAMS },
        { issuer: at(systemProcess('vfs')), params: ROOT_PARAMS },
        { issuer: at(systemProcess('eth')), params: ROOT_PARAMS },
      ]);
      grantFrom(SETTINGS_PROCESS, ['eth', 'http-server', 'kernel', 'net', 'vfs']);
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
