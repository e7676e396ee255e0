// The system packages a fake node runs beside the runtime modules, each holding and granting the
// capabilities its Hyperdrive manifest gives it (system-capabilities.ts), so that what answers a
// process may answer it (Responses are capability-checked): the terminal, the homepage, the App
// Store (main, downloads and, with a chain, chain), settings, sign, hns-indexer and the Hypermap
// cachers (with a chain), tester, and the processes a fake node does not provide, which say so.
// Each one's grants are made as it starts, and all again once every one of them exists.

import { processIdToString } from '../../core/types.js';
import type { ZipLimits } from '../../core/zip.js';
import type { NativeProcess } from '../kernel/api.js';
import type { Kernel, StateStore } from '../kernel/kernel.js';
import type { NotificationsModule } from '../modules/notifications.js';
import { grantFromSystemProcess, grantSystemCapabilities, systemCapabilities } from '../system-capabilities.js';
import { createAppStoreChain } from './app-store/chain.js';
import { createAppStoreDownloads } from './app-store/downloads.js';
import { createAppStore } from './app-store/index.js';
import { createHnsIndexer } from './hns-indexer/index.js';
import { createHomepage } from './homepage/index.js';
import { createBindingCacher, createHypermapCacher } from './hypermap-cacher.js';
import { createSettings } from './settings/index.js';
import { createSign } from './sign.js';
import { createTester } from './tester/index.js';
import { createUnsupported, UNSUPPORTED } from './unsupported.js';

export interface SystemPackages {
  /** downloads:app-store:sys, settings, sign and the unsupported ones (once eth runs). */
  addLocalParts(): Promise<void>;
  /** With a chain: hns-indexer, the cachers and chain:app-store:sys. */
  addChainParts(): Promise<void>;
  /** tester:tester:sys, then every system process's grants. */
  finish(): Promise<void>;
}

/**
 * Start the terminal, homepage:homepage:sys and main:app-store:sys now (http-server must run)
 * and return the rest. `state` keeps the homepage's process state (its app order).
 */
export async function addSystemPackages(
  kernel: Kernel,
  opts: { terminal: NativeProcess; state: StateStore; notifications: NotificationsModule; zipLimits?: ZipLimits },
): Promise<SystemPackages> {
  const add = (p: NativeProcess) => {
    grantFromSystemProcess(kernel, processIdToString(p.id));
    return kernel.addNative(p, systemCapabilities(kernel.our, p.id));
  };
  await add(opts.terminal);
  // homepage serves `/`; it comes before the App Store and settings, which add themselves to it.
  const homepageKey = 'homepage:homepage:sys';
  await add(
    createHomepage({
      state: { get: () => opts.state.get(homepageKey), set: (bytes) => opts.state.set(homepageKey, bytes) },
      notifications: opts.notifications,
    }),
  );
  await add(createAppStore({ zipLimits: opts.zipLimits }));

  return {
    async addLocalParts() {
      await add(createAppStoreDownloads());
      await add(createSign());
      for (const p of UNSUPPORTED) await kernel.addNative(createUnsupported(p), []);
      await add(createSettings());
    },
    async addChainParts() {
      await add(createHnsIndexer());
      await add(createHypermapCacher());
      await add(createBindingCacher());
      await add(createAppStoreChain());
    },
    async finish() {
      // tester:tester:sys: every fake node is a simulation-mode node, where the real runtime has it too.
      await add(createTester());
      grantSystemCapabilities(kernel);
    },
  };
}
