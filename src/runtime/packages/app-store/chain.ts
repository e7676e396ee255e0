// chain:app-store:sys — the App Store's view of Hypermap (interop §8.5): follows Mint events (to
// know every entry's name) and the `~metadata-hash` / `~metadata-uri` notes through eth:distro:sys,
// fetches each published package's metadata, keeps it only if keccak256 of the bytes equals the
// on-chain `~metadata-hash`, and drops a package whose notes were emptied (unpublished).
// Requests (local only), as the app-store:sys-v1 `chain` interface:
//   {"GetApp": package_id} -> {"GetApp": onchain-app | null}     "GetApps" -> {"GetApps": [...]}
//   "GetOurApps" -> {"GetOurApps": [...]}   {"StartAutoUpdate": id} -> "AutoUpdateStarted"
//   {"StopAutoUpdate": id} -> "AutoUpdateStopped" (either: {"Err": "NoPackage"} if not listed)
//   "Reset" -> "ResetOk"
// onchain-app = {package_id, tba, metadata_uri, metadata_hash, metadata, auto_update,
// binding_power}; metadata has code_hashes as [version, hash] pairs. When a package that
// auto-updates is published again, downloads:app-store:sys gets {"AutoUpdate": {package_id,
// metadata}} (hyperdrive/packages/app-store/chain/src/lib.rs). Which packages auto-update is kept in
// the VFS, so a --persist node remembers it.

import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { decodeEventLog, decodeFunctionResult, encodeFunctionData, type Hex, hexToString, keccak256 } from 'viem';
import { HYPERMAP, hypermapAbi, namehash } from '../../../core/hypermap.js';
import type { KernelApi, NativeProcess } from '../../kernel/api.js';
import { askEth, FAKE_CHAIN_ID, followHypermapLogs, type RpcLog } from '../../modules/eth/ask.js';
import type { Logger } from '../../../core/log.js';
import { fromUtf8, type KernelMessage, type ProcessId } from '../../../core/types.js';
import { answer, grantVfsRoot, VfsCallError, vfsCall } from './native.js';
import { type PackageIdJson, packageIdString, parsePackageIdJson } from './plan.js';

export const CHAIN_PROCESS: ProcessId = { processName: 'chain', packageName: 'app-store', publisherNode: 'sys' };
const CHAIN_ID = FAKE_CHAIN_ID;
const SUB_ID = 2;
const URI_LABEL = '~metadata-uri';
const HASH_LABEL = '~metadata-hash';
const FETCH_TIMEOUT_MS = 30_000;
const AUTO_UPDATE_FILE = '/app-store:sys/state/auto-update.json';
const DOWNLOADS: ProcessId = { processName: 'downloads', packageName: 'app-store', publisherNode: 'sys' };


export interface OnchainApp {
  package_id: PackageIdJson;
  tba: string;
  metadata_uri: string;
  metadata_hash: string;
  metadata: unknown | null;
  auto_update: boolean;
  /** Hypermap bindings are not modelled here: always null. */
  binding_power: string | null;
}

export function createAppStoreChain(): NativeProcess & { ready: Promise<void> } {
  return new Chain();
}

class Chain implements NativeProcess {
  readonly id = CHAIN_PROCESS;
  private kernel!: KernelApi;
  private log!: Logger;
  private names = new Map<string, string>([
    [namehash(''), ''],
    [namehash('os'), 'os'],
    [namehash('dev'), 'dev'],
  ]);
  /** Latest `~metadata-hash` per entry namehash (written before the uri, in the same tx). */
  private hashes = new Map<string, string>();
  private apps = new Map<string, OnchainApp>();
  private autoUpdate = new Set<string>();
  private pending: RpcLog[] = [];
  private seen = new Set<string>();
  /** Logs are applied one at a time, in order (metadata fetches included). */
  private queue: Promise<void> = Promise.resolve();
  private lastBlock = 0n;
  /** Set once the logs that were on chain at boot are applied: later publishes start auto-updates. */
  private caughtUp = false;
  private resolveReady!: () => void;
  readonly ready = new Promise<void>((r) => {
    this.resolveReady = r;
  });

  start(kernel: KernelApi): void {
    this.kernel = kernel;
    this.log = kernel.log.child('app-store-chain');
    grantVfsRoot(kernel, this.id);
    void this.loadAutoUpdate()
      .then(() => this.follow())
      .catch((e) => this.log.warning(`cannot follow Hypermap: ${(e as Error).message}`));
  }

  private async loadAutoUpdate(): Promise<void> {
    try {
      const r = await vfsCall(this.kernel, this.id, AUTO_UPDATE_FILE, 'Read');
      const list = JSON.parse(fromUtf8(r.blob ?? new Uint8Array())) as unknown;
      if (Array.isArray(list)) for (const p of list) if (typeof p === 'string') this.autoUpdate.add(p);
    } catch (e) {
      if (!(e instanceof VfsCallError)) throw e;
    }
  }

  private async saveAutoUpdate(): Promise<void> {
    await vfsCall(this.kernel, this.id, '/app-store:sys/state', 'CreateDrive');
    await vfsCall(this.kernel, this.id, AUTO_UPDATE_FILE, 'Write', new TextEncoder().encode(JSON.stringify([...this.autoUpdate].sort())));
  }

  private eth(action: unknown): Promise<unknown> {
    return askEth(this.kernel, this.id, action);
  }

  private async follow(): Promise<void> {
    for (const log of await followHypermapLogs(this.kernel, this.id, SUB_ID)) this.enqueue(log);
    await this.queue;
    this.caughtUp = true;
    this.resolveReady();
  }

  handle(km: KernelMessage): void {
    if (km.message.tag !== 'request') return;
    let body: unknown;
    try {
      body = JSON.parse(fromUtf8(km.message.val.body));
    } catch {
      return;
    }
    if (km.source.node !== this.kernel.our) return;
    if (km.source.process.processName === 'eth' && km.source.process.packageName === 'distro' && body && typeof body === 'object') {
      const b = body as Record<string, unknown>;
      if ('Ok' in b) this.enqueue((b.Ok as { result: RpcLog }).result);
      else if ('Err' in b) this.log.warning(`subscription closed: ${JSON.stringify(b.Err)}`);
      return;
    }
    void this.serve(km, body).catch((e) => this.log.error(`request failed: ${(e as Error).message}`));
  }

  private async serve(km: KernelMessage, req: unknown): Promise<void> {
    // Answer after what is already queued, so a caller sees every log the chain had when it asked.
    await this.queue;
    const list = () => [...this.apps.values()].sort((a, b) => packageIdString(a.package_id).localeCompare(packageIdString(b.package_id)));
    if (req === 'GetApps') return answer(this.kernel, this.id, km, { GetApps: list() });
    if (req === 'GetOurApps') return answer(this.kernel, this.id, km, { GetOurApps: list().filter((a) => a.package_id.publisher_node === this.kernel.our) });
    if (req === 'Reset') {
      this.apps.clear();
      return answer(this.kernel, this.id, km, 'ResetOk');
    }
    const r = (req && typeof req === 'object' ? req : {}) as Record<string, unknown>;
    try {
      if ('GetApp' in r) {
        const pkg = packageIdString(parsePackageIdJson(r.GetApp));
        return answer(this.kernel, this.id, km, { GetApp: this.apps.get(pkg) ?? null });
      }
      if ('StartAutoUpdate' in r || 'StopAutoUpdate' in r) {
        const start = 'StartAutoUpdate' in r;
        const pkg = packageIdString(parsePackageIdJson(start ? r.StartAutoUpdate : r.StopAutoUpdate));
        const app = this.apps.get(pkg);
        if (!app) return answer(this.kernel, this.id, km, { Err: 'NoPackage' });
        app.auto_update = start;
        if (start) this.autoUpdate.add(pkg);
        else this.autoUpdate.delete(pkg);
        await this.saveAutoUpdate().catch((e) => this.log.warning(`could not save the auto-update list: ${(e as Error).message}`));
        return answer(this.kernel, this.id, km, start ? 'AutoUpdateStarted' : 'AutoUpdateStopped');
      }
    } catch (e) {
      this.log.info(`bad request: ${(e as Error).message}`);
    }
    answer(this.kernel, this.id, km, { Err: 'NoPackage' });
  }

  private enqueue(log: RpcLog): void {
    const key = `${log.transactionHash}:${log.logIndex}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.queue = this.queue
      .then(() => this.ingest(log))
      .catch((e) => this.log.warning(`log ${key}: ${(e as Error).message}`));
  }

  private async ingest(log: RpcLog): Promise<void> {
    const block = BigInt(log.blockNumber);
    if (block > this.lastBlock) this.lastBlock = block;
    if (!(await this.apply(log))) {
      this.pending.push(log);
      return;
    }
    let progress = true;
    while (progress && this.pending.length > 0) {
      progress = false;
      const waiting = this.pending;
      this.pending = [];
      for (const p of waiting) {
        if (await this.apply(p)) progress = true;
        else this.pending.push(p);
      }
    }
  }

  /** False when the log's parent entry is not known yet. */
  private async apply(log: RpcLog): Promise<boolean> {
    let ev: ReturnType<typeof decodeEventLog<typeof hypermapAbi>>;
    try {
      ev = decodeEventLog({ abi: hypermapAbi, topics: log.topics, data: log.data });
    } catch {
      return true;
    }
    if (ev.eventName === 'Mint') {
      const parent = this.names.get(ev.args.parenthash);
      if (parent === undefined) return false;
      const label = hexToString(ev.args.label);
      this.names.set(ev.args.childhash, parent === '' ? label : `${label}.${parent}`);
      return true;
    }
    if (ev.eventName !== 'Note') return true;
    const label = hexToString(ev.args.label);
    if (label !== URI_LABEL && label !== HASH_LABEL) return true;
    const entry = this.names.get(ev.args.parenthash);
    if (entry === undefined) return false;
    const data = hexToString(ev.args.data);
    if (label === HASH_LABEL) {
      this.hashes.set(ev.args.parenthash, data);
      return true;
    }
    await this.onUri(entry, ev.args.parenthash, data);
    return true;
  }

  private async onUri(entry: string, entryHash: Hex, uri: string): Promise<void> {
    const dot = entry.indexOf('.');
    if (dot <= 0) return;
    let pkgJson: PackageIdJson;
    try {
      pkgJson = parsePackageIdJson({ package_name: entry.slice(0, dot), publisher_node: entry.slice(dot + 1) });
    } catch {
      return; // not a package entry
    }
    const pkg = packageIdString(pkgJson);
    const hash = this.hashes.get(entryHash) ?? '';
    if (uri === '') {
      if (this.apps.delete(pkg)) this.log.info(`${pkg} unpublished`);
      return;
    }
    let metadata: unknown = null;
    try {
      const bytes = await fetchBytes(uri);
      const got = keccak256(bytes);
      if (got !== hash.toLowerCase()) {
        this.log.warning(`${pkg}: metadata at ${uri} hashes to ${got}, not the on-chain ~metadata-hash ${hash}; not listed`);
        this.apps.delete(pkg);
        return;
      }
      metadata = toOnchainMetadata(JSON.parse(fromUtf8(bytes)));
    } catch (e) {
      // Listed without metadata, as the real store does when the URI is down; nothing installs from it.
      this.log.warning(`${pkg}: cannot use metadata at ${uri}: ${(e as Error).message}`);
    }
    const tba = await this.tbaOf(entry).catch(() => '0x');
    const autoUpdate = this.autoUpdate.has(pkg);
    this.apps.set(pkg, { package_id: pkgJson, tba, metadata_uri: uri, metadata_hash: hash, metadata, auto_update: autoUpdate, binding_power: null });
    this.log.info(`${pkg} published (metadata ${metadata ? 'ok' : 'missing'})`);
    if (this.caughtUp && autoUpdate && metadata) {
      this.kernel.print(0, `kicking off auto-update for ${pkg}`);
      this.kernel.tell(this.id, { node: this.kernel.our, process: DOWNLOADS }, JSON.stringify({ AutoUpdate: { package_id: pkgJson, metadata } }));
    }
  }

  private async tbaOf(entry: string): Promise<string> {
    const data = encodeFunctionData({ abi: hypermapAbi, functionName: 'get', args: [namehash(entry)] });
    const r = (await this.eth({ Request: { chain_id: CHAIN_ID, method: 'eth_call', params: [{ to: HYPERMAP, data }, 'latest'] } })) as { Response: Hex };
    const [tba] = decodeFunctionResult({ abi: hypermapAbi, functionName: 'get', data: r.Response });
    return tba;
  }
}

async function fetchBytes(uri: string): Promise<Uint8Array> {
  const url = new URL(uri);
  if (url.protocol === 'file:') return new Uint8Array(await readFile(fileURLToPath(url)));
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`unsupported URI scheme ${url.protocol}`);
  const res = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** metadata.json -> onchain-metadata: the WIT record's fields, code_hashes as [version, hash] pairs. */
function toOnchainMetadata(m: unknown): unknown {
  const o = m as Record<string, unknown>;
  const p = (o?.properties ?? {}) as Record<string, unknown>;
  if (typeof p.package_name !== 'string' || typeof p.publisher !== 'string' || typeof p.current_version !== 'string') throw new Error('not package metadata');
  const codeHashes = p.code_hashes && typeof p.code_hashes === 'object' && !Array.isArray(p.code_hashes) ? Object.entries(p.code_hashes) : (p.code_hashes ?? []);
  const opt = (v: unknown) => (v === undefined ? null : v);
  return {
    name: opt(o.name),
    description: opt(o.description),
    image: opt(o.image),
    external_url: opt(o.external_url),
    animation_url: opt(o.animation_url),
    properties: {
      package_name: p.package_name,
      publisher: p.publisher,
      current_version: p.current_version,
      mirrors: Array.isArray(p.mirrors) ? p.mirrors : [],
      code_hashes: codeHashes,
      license: opt(p.license),
      screenshots: opt(p.screenshots),
      wit_version: opt(p.wit_version),
      dependencies: opt(p.dependencies),
    },
  };
}
