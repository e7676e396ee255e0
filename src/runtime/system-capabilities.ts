// The capabilities Hyperdrive's boot gives its system packages, for our native versions of them:
// each holds what its real pkg/manifest.json requests (hyperdrive/packages/*/pkg/manifest.json;
// hyperdrive/src/state.rs adds "network" when asked, read and write on its own pkg drive, and its
// own messaging capability), and every process it grants gets its messaging capability. Since
// every Response is capability-checked, the grants decide who can answer whom. Where our native
// does more than the real one, the extra is listed apart, with why.

import { type Capability, MESSAGING_PARAMS, NETWORK_PARAMS, parseProcessId, type ProcessId, processIdToString } from '../core/types.js';
import type { Kernel } from './kernel/kernel.js';

type ManifestCap = string | { process: string; params: unknown };

interface SystemManifest {
  request: ManifestCap[];
  grant: string[];
  networking: boolean;
  /** Beyond the real manifest, for what our native process does that the real one does not. */
  extraRequest?: ManifestCap[];
  extraGrant?: string[];
}

const VFS_ROOT: ManifestCap = { process: 'vfs:distro:sys', params: { root: true } };
const ETH_ROOT: ManifestCap = { process: 'eth:distro:sys', params: { root: true } };

function cacherManifest(other: string): SystemManifest {
  const list = [other, 'eth:distro:sys', 'http-server:distro:sys', 'net:distro:sys', 'sign:sign:sys', 'terminal:terminal:sys', 'timer:distro:sys', 'vfs:distro:sys'];
  return { request: list, grant: list, networking: true };
}

/** By process id, as in Hyperdrive 1.9.2's packages. */
export const SYSTEM_MANIFESTS: Record<string, SystemManifest> = {
  'main:app-store:sys': {
    request: [
      'chain:app-store:sys',
      'downloads:app-store:sys',
      ETH_ROOT,
      'filesystem:distro:sys',
      'homepage:homepage:sys',
      { process: 'homepage:homepage:sys', params: 'RemoveOther' },
      'http-server:distro:sys',
      'kernel:distro:sys',
      'hns-indexer:hns-indexer:sys',
      'kv:distro:sys',
      'sqlite:distro:sys',
      'terminal:terminal:sys',
      'vfs:distro:sys',
      VFS_ROOT,
    ],
    grant: ['http-server:distro:sys', 'hns-indexer:hns-indexer:sys', 'terminal:terminal:sys', 'homepage:homepage:sys', 'vfs:distro:sys'],
    networking: true,
  },
  'chain:app-store:sys': {
    request: [
      'binding-cacher:hypermap-cacher:sys',
      'downloads:app-store:sys',
      'eth:distro:sys',
      'hns-indexer:hns-indexer:sys',
      'http-client:distro:sys',
      'hypermap-cacher:hypermap-cacher:sys',
      'main:app-store:sys',
      'sign:sign:sys',
      'sqlite:distro:sys',
      'terminal:terminal:sys',
      VFS_ROOT,
    ],
    grant: [
      'binding-cacher:hypermap-cacher:sys',
      'eth:distro:sys',
      'hns-indexer:hns-indexer:sys',
      'http-client:distro:sys',
      'hypermap-cacher:hypermap-cacher:sys',
      'sign:sign:sys',
      'sqlite:distro:sys',
      'terminal:terminal:sys',
      'timer:distro:sys',
    ],
    networking: false,
    // kit's store commands (src/package/store.ts) ask chain directly over the HTTP RPC.
    extraRequest: ['http-server:distro:sys'],
    extraGrant: ['http-server:distro:sys'],
  },
  'downloads:app-store:sys': {
    request: ['chain:app-store:sys', 'http-client:distro:sys', 'main:app-store:sys', 'terminal:terminal:sys', 'vfs:distro:sys', VFS_ROOT],
    grant: ['http-client:distro:sys', 'terminal:terminal:sys', 'vfs:distro:sys'],
    networking: true,
    // kit's store commands ask downloads directly over the HTTP RPC; main tells it to mirror; at
    // start our native asks the kernel for vfs's root (which its manifest already gives it).
    extraRequest: ['http-server:distro:sys', 'kernel:distro:sys'],
    extraGrant: ['http-server:distro:sys', 'main:app-store:sys'],
  },
  'terminal:terminal:sys': {
    request: [
      'app-store:app-store:sys',
      'chess:chess:sys',
      'eth:distro:sys',
      ETH_ROOT,
      'fd-manager:distro:sys',
      'filesystem:distro:sys',
      'http-server:distro:sys',
      'http-client:distro:sys',
      'kernel:distro:sys',
      'hns-indexer:hns-indexer:sys',
      { process: 'hns-indexer:hns-indexer:sys', params: { root: true } },
      'kv:distro:sys',
      'net:distro:sys',
      'sign:sign:sys',
      'sqlite:distro:sys',
      'state:distro:sys',
      'timer:distro:sys',
      'vfs:distro:sys',
      VFS_ROOT,
    ],
    grant: [],
    networking: true,
    // Our terminal runs the built-in scripts itself (hi, ...), so it grants what they grant: `hi`
    // is answered by net:distro:sys.
    extraGrant: ['net:distro:sys'],
  },
  'hns-indexer:hns-indexer:sys': {
    request: [
      'eth:distro:sys',
      'http-server:distro:sys',
      'hypermap-cacher:hypermap-cacher:sys',
      'kv:distro:sys',
      'net:distro:sys',
      'sign:sign:sys',
      'timer:distro:sys',
      'vfs:distro:sys',
    ],
    grant: [
      'eth:distro:sys',
      'http-server:distro:sys',
      'hypermap-cacher:hypermap-cacher:sys',
      'kv:distro:sys',
      'sign:sign:sys',
      'timer:distro:sys',
      'vfs:distro:sys',
    ],
    networking: false,
    // Our net takes HnsUpdate only from a holder of its root capability (the real one takes it
    // from any local process, a hole we do not copy).
    extraRequest: [{ process: 'net:distro:sys', params: { root: true } }],
  },
  'homepage:homepage:sys': {
    request: ['http-server:distro:sys', 'notifications:distro:sys', 'vfs:distro:sys'],
    grant: ['http-server:distro:sys', 'notifications:distro:sys'],
    networking: false,
  },
  'settings:settings:sys': {
    request: [
      'eth:distro:sys',
      ETH_ROOT,
      'homepage:homepage:sys',
      { process: 'homepage:homepage:sys', params: 'SetStylesheet' },
      'http-server:distro:sys',
      'kernel:distro:sys',
      'hns-indexer:hns-indexer:sys',
      { process: 'hns-indexer:hns-indexer:sys', params: { root: true } },
      'net:distro:sys',
      'vfs:distro:sys',
      VFS_ROOT,
    ],
    grant: ['eth:distro:sys', 'http-server:distro:sys', 'kernel:distro:sys', 'net:distro:sys', 'vfs:distro:sys'],
    networking: true,
  },
  'sign:sign:sys': {
    request: ['net:distro:sys', 'vfs:distro:sys'],
    grant: ['net:distro:sys', 'vfs:distro:sys'],
    networking: false,
  },
  // Both cachers' manifests (hypermap-cacher/pkg/manifest.json) request and grant the same list,
  // each naming the other cacher.
  'hypermap-cacher:hypermap-cacher:sys': cacherManifest('binding-cacher:hypermap-cacher:sys'),
  'binding-cacher:hypermap-cacher:sys': cacherManifest('hypermap-cacher:hypermap-cacher:sys'),
  'tester:tester:sys': {
    request: [
      'eth:distro:sys',
      'http-client:distro:sys',
      'http-server:distro:sys',
      'kernel:distro:sys',
      'kv:distro:sys',
      'sqlite:distro:sys',
      'state:distro:sys',
      'terminal:distro:sys',
      'timer:distro:sys',
      'vfs:distro:sys',
    ],
    grant: ['kv:distro:sys', 'sqlite:distro:sys', 'vfs:distro:sys'],
    networking: true,
  },
};

function toCapability(our: string, c: ManifestCap): Capability {
  if (typeof c === 'string') return { issuer: { node: our, process: parseProcessId(c) }, params: MESSAGING_PARAMS };
  return { issuer: { node: our, process: parseProcessId(c.process) }, params: JSON.stringify(c.params) };
}

/** What a system process holds at boot: its requests, "network" if asked, its pkg drive, itself. */
export function systemCapabilities(our: string, id: ProcessId): Capability[] {
  const key = processIdToString(id);
  const m = SYSTEM_MANIFESTS[key];
  if (!m) throw new Error(`no system manifest for ${key}`);
  const vfs = { node: our, process: parseProcessId('vfs:distro:sys') };
  const drive = `/${id.packageName}:${id.publisherNode}/pkg`;
  return [
    ...[...m.request, ...(m.extraRequest ?? []), key].map((c) => toCapability(our, c)),
    ...(m.networking ? [{ issuer: { node: our, process: parseProcessId('kernel:distro:sys') }, params: NETWORK_PARAMS }] : []),
    { issuer: vfs, params: JSON.stringify({ kind: 'read', drive }) },
    { issuer: vfs, params: JSON.stringify({ kind: 'write', drive }) },
  ];
}

/**
 * `key`'s grants: every process its manifest grants that exists now gets `key`'s messaging
 * capability. Made before `key` starts, so the first answers to what it asks at start reach it,
 * as on Hyperdrive, whose boot sets every capability before any process runs.
 */
export function grantFromSystemProcess(kernel: Kernel, key: string): void {
  const m = SYSTEM_MANIFESTS[key];
  if (!m) return;
  const cap: Capability = { issuer: { node: kernel.our, process: parseProcessId(key) }, params: MESSAGING_PARAMS };
  for (const target of [...m.grant, ...(m.extraGrant ?? [])]) kernel.grant(parseProcessId(target), [cap]);
}

/** Every system process's grants, once all of them exist (for targets that started after it). */
export function grantSystemCapabilities(kernel: Kernel): void {
  for (const key of Object.keys(SYSTEM_MANIFESTS)) if (kernel.has(key)) grantFromSystemProcess(kernel, key);
}
