// hypermap-cacher:hypermap-cacher:sys and binding-cacher:hypermap-cacher:sys — signed caches of a
// contract's logs, as Hyperdrive's (hyperdrive/packages/hypermap-cacher/{hypermap,binding}-cacher/
// src/lib.rs, api hypermap-cacher:sys-v1) and as process_lib's Hypermap bootstrap reads them
// (process_lib src/hypermap.rs get_bootstrap_log_cache, validate_log_cache):
//   "GetManifest" -> {"GetManifest": manifest | null}        "GetStatus" -> {"GetStatus": status}
//   {"GetLogCacheContent": file} -> {"GetLogCacheContent": {"Ok": text | null} | {"Err": why}}
//   {"GetLogsByRange": {"from_block", "to_block"}} -> {"GetLogsByRange": {"Ok": {"Logs": [last
//       cached block, "<JSON of [{metadata, logs}]>"]} | {"Latest": block}}}
//   "StartProviding" | "StopProviding" | {"SetNodes": [..]} | {"Reset": [..] | null}
//       -> {"<same>": {"Ok": text}}, local only
//   "Rejected" (a remote caller other than a provider's cacher), "IsStarting" (before bootstrap)
// Each cache file is the logs of a block range from eth:distro:sys with `metadata.signature` =
// sign:sign:sys's NetKeySign of keccak256(JSON of the logs ++ from_block ++ to_block as u64 BE),
// so `validate_log_cache` (NetKeyVerify against `createdBy`) accepts them. On a fake node the
// only source is the chain (the default cacher node fake.os is not asked); the binding-cacher
// follows a contract the fake chain does not deploy, so its caches stay empty.

import { type Hex, keccak256 } from 'viem';
import { HYPERMAP } from '../../core/hypermap.js';
import type { Logger } from '../../core/log.js';
import { fromUtf8, type KernelMessage, type ProcessId, parseJsonBytes } from '../../core/types.js';
import type { KernelApi, NativeProcess } from '../kernel/api.js';
import { askEth, FAKE_CHAIN_ID, type RpcLog } from '../modules/eth/ask.js';
import { VfsCallError, vfsCall } from './app-store/native.js';
import { SIGN_PROCESS } from './sign.js';

const PROTOCOL_VERSION = '0';
const DEFAULT_BLOCK_BATCH_SIZE = 10n;
const DEFAULT_CACHE_INTERVAL_S = 3_600;
const RETRY_DELAY_MS = 10_000;
/** HYPERMAP_FIRST_BLOCK in simulation mode. */
const FIRST_BLOCK = 0n;
const DEFAULT_NODES = ['fake.os'];
const CHAIN_ID = String(FAKE_CHAIN_ID);

export const HYPERMAP_CACHER: ProcessId = { processName: 'hypermap-cacher', packageName: 'hypermap-cacher', publisherNode: 'sys' };
export const BINDING_CACHER: ProcessId = { processName: 'binding-cacher', packageName: 'hypermap-cacher', publisherNode: 'sys' };

interface LogsMetadata {
  chainId: string;
  fromBlock: string;
  toBlock: string;
  timeCreated: string;
  createdBy: string;
  signature: string;
}

interface ManifestItem {
  metadata: LogsMetadata;
  isEmpty: boolean;
  fileHash: string;
  fileName: string;
}

interface Manifest {
  items: Record<string, ManifestItem>;
  manifest_filename: string;
  chain_id: string;
  protocol_version: string;
}

/** The contract whose logs a cacher keeps; null: none on the fake chain (binding-cacher). */
export function createHypermapCacher(): NativeProcess {
  return new LogCacher(HYPERMAP_CACHER, HYPERMAP);
}

export function createBindingCacher(): NativeProcess {
  return new LogCacher(BINDING_CACHER, null);
}

/** A log as alloy serializes an rpc Log (what the signature covers): its fields, its order. */
function canonicalLog(l: RpcLog & Record<string, unknown>): Record<string, unknown> {
  const quantity = (v: unknown) => (v === null || v === undefined ? null : `0x${BigInt(v as string).toString(16)}`);
  const out: Record<string, unknown> = {
    address: String(l.address).toLowerCase(),
    topics: l.topics.map((t) => t.toLowerCase()),
    data: String(l.data).toLowerCase(),
    blockHash: l.blockHash ?? null,
    blockNumber: quantity(l.blockNumber),
  };
  if (l.blockTimestamp !== undefined && l.blockTimestamp !== null) out.blockTimestamp = quantity(l.blockTimestamp);
  out.transactionHash = l.transactionHash ?? null;
  out.transactionIndex = quantity(l.transactionIndex);
  out.logIndex = quantity(l.logIndex);
  out.removed = l.removed === true;
  return out;
}

function u64be(n: bigint): Uint8Array {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(n);
  return b;
}

/** chrono's `%Y%m%dT%H%M%SZ`. */
function timestamp(d = new Date()): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

class LogCacher implements NativeProcess {
  private kernel!: KernelApi;
  private log!: Logger;
  private drive = '';
  private manifest!: Manifest;
  private lastCachedBlock = FIRST_BLOCK;
  private batchSize = 0n;
  private isProviding = false;
  private nodes = [...DEFAULT_NODES];
  private isStarting = true;
  private timerLive = false;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  /** Caching and Reset run one at a time. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly id: ProcessId,
    private readonly contract: Hex | null,
  ) {}

  private get pkgDrive(): string {
    return `/${this.id.packageName}:${this.id.publisherNode}`;
  }

  start(kernel: KernelApi): void {
    this.kernel = kernel;
    this.log = kernel.log.child(this.id.processName);
    this.drive = `${this.pkgDrive}/cache`;
    this.manifest = this.freshManifest();
    void this.boot();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private freshManifest(): Manifest {
    return { items: {}, manifest_filename: `manifest-chain${CHAIN_ID}-protocol${PROTOCOL_VERSION}.json`, chain_id: CHAIN_ID, protocol_version: PROTOCOL_VERSION };
  }

  private vfs(path: string, action: unknown, blob?: Uint8Array) {
    return vfsCall(this.kernel, this.id, path, action, blob);
  }

  private async boot(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.vfs(this.drive, 'CreateDrive');
        await this.vfs(`${this.pkgDrive}/initfiles`, 'CreateDrive');
        await this.loadManifest();
        await this.catchUp();
        await this.catchUp();
        this.isStarting = false;
        this.schedule();
        this.log.info(`bootstrapped: cached to block ${this.lastCachedBlock}`);
        return;
      } catch (e) {
        this.log.warning(`bootstrap failed: ${(e as Error).message}; retrying in ${RETRY_DELAY_MS / 1000} s`);
        await new Promise((r) => setTimeout(r, RETRY_DELAY_MS).unref?.());
      }
    }
  }

  /** A --persist node keeps its cache: the manifest on disk says how far it got. */
  private async loadManifest(): Promise<void> {
    try {
      const r = await this.vfs(`${this.drive}/${this.manifest.manifest_filename}`, 'Read');
      const m = JSON.parse(fromUtf8(r.blob ?? new Uint8Array())) as Manifest;
      if (!m || typeof m.items !== 'object') return;
      this.manifest = { ...this.freshManifest(), items: m.items };
      for (const item of Object.values(m.items)) {
        const to = BigInt(item.metadata.toBlock);
        if (to > this.lastCachedBlock) this.lastCachedBlock = to;
      }
    } catch (e) {
      if (!(e instanceof VfsCallError)) throw e;
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timerLive = true;
    this.timer = setTimeout(() => {
      this.timerLive = false;
      this.queue = this.queue.then(() => this.catchUp()).catch((e) => this.log.warning(`cache cycle failed: ${(e as Error).message}`)).then(() => this.schedule());
    }, DEFAULT_CACHE_INTERVAL_S * 1000);
    this.timer.unref?.();
  }

  private async head(): Promise<bigint> {
    const r = (await askEth(this.kernel, this.id, { Request: { chain_id: FAKE_CHAIN_ID, method: 'eth_blockNumber', params: [] } })) as { Response: Hex };
    return BigInt(r.Response);
  }

  /** cache_logs_and_update_manifest: every block up to the head, in batches. */
  private async catchUp(): Promise<void> {
    const head = await this.head();
    if (this.batchSize === 0n) this.batchSize = head - FIRST_BLOCK < 1n ? DEFAULT_BLOCK_BATCH_SIZE : head - FIRST_BLOCK;
    while (this.lastCachedBlock < head) await this.cacheStep(head);
  }

  private async cacheStep(head: bigint): Promise<void> {
    const from = this.lastCachedBlock + 1n;
    let to = from + this.batchSize - 1n;
    if (to > head) to = head;
    const logs = this.contract
      ? (((await askEth(this.kernel, this.id, {
          Request: { chain_id: FAKE_CHAIN_ID, method: 'eth_getLogs', params: [{ address: this.contract, fromBlock: `0x${from.toString(16)}`, toBlock: `0x${to.toString(16)}` }] },
        })) as { Response: RpcLog[] }).Response.map((l) => canonicalLog(l as RpcLog & Record<string, unknown>)))
      : [];
    const metadata: LogsMetadata = {
      chainId: CHAIN_ID,
      fromBlock: from.toString(),
      toBlock: to.toString(),
      timeCreated: timestamp(),
      createdBy: `${this.kernel.our}@${this.id.processName}:${this.id.packageName}:${this.id.publisherNode}`,
      signature: '',
    };
    const hashed = keccak256(Buffer.concat([Buffer.from(JSON.stringify(logs)), u64be(from), u64be(to)]), 'bytes');
    metadata.signature = `0x${Buffer.from(await this.netKeySign(hashed)).toString('hex')}`;
    const file = Buffer.from(JSON.stringify({ metadata, logs }));
    const fileName = `${metadata.timeCreated.replace(/[:-]/g, '')}-chain${CHAIN_ID}-from${from}-to${to}-protocol${PROTOCOL_VERSION}.json`;
    if (logs.length > 0) await this.vfs(`${this.drive}/${fileName}`, 'Write', file);
    this.manifest.items[fileName] = { metadata, isEmpty: logs.length === 0, fileHash: keccak256(file), fileName: logs.length > 0 ? fileName : '' };
    await this.vfs(`${this.drive}/${this.manifest.manifest_filename}`, 'Write', Buffer.from(JSON.stringify(this.manifest)));
    this.lastCachedBlock = to;
  }

  private async netKeySign(message: Uint8Array): Promise<Uint8Array> {
    const r = await this.kernel.request(this.id, { node: this.kernel.our, process: SIGN_PROCESS }, JSON.stringify('NetKeySign'), {
      blob: { bytes: message },
      timeoutSecs: 10,
    });
    if (parseJsonBytes(r.response.body) !== 'NetKeySign' || !r.blob) throw new Error(`sign:sign:sys answered ${fromUtf8(r.response.body)}`);
    return r.blob.bytes;
  }

  handle(km: KernelMessage): void {
    if (km.message.tag !== 'request') return;
    void this.serve(km).catch((e) => this.log.error(`request failed: ${(e as Error).message}`));
  }

  private respond(km: KernelMessage, body: unknown): void {
    if (km.message.tag === 'request' && km.message.val.expectsResponse !== undefined) this.kernel.respond(this.id, km, JSON.stringify(body));
  }

  private async serve(km: KernelMessage): Promise<void> {
    if (km.message.tag !== 'request') return;
    let req: unknown;
    try {
      req = parseJsonBytes(km.message.val.body);
    } catch {
      this.log.info(`not a CacherRequest from ${km.source.node}`);
      return;
    }
    const local = km.source.node === this.kernel.our;
    if (this.isStarting) return this.respond(km, 'IsStarting');
    const peerCacher = km.source.process.processName === this.id.processName && km.source.process.packageName === this.id.packageName && km.source.process.publisherNode === 'sys';
    if (!local && (!peerCacher || !this.isProviding)) return this.respond(km, 'Rejected');
    const [variant, arg] = typeof req === 'string' ? [req, undefined] : (Object.entries((req ?? {}) as Record<string, unknown>)[0] ?? ['', undefined]);
    const localOnly = (body: unknown) => (local ? body : 'Rejected');
    switch (variant) {
      case 'GetManifest':
        return this.respond(km, { GetManifest: Object.keys(this.manifest.items).length === 0 ? null : this.witManifest() });
      case 'GetLogCacheContent': {
        try {
          const r = await this.vfs(`${this.drive}/${String(arg)}`, 'Read');
          return this.respond(km, { GetLogCacheContent: { Ok: fromUtf8(r.blob ?? new Uint8Array()) } });
        } catch {
          return this.respond(km, { GetLogCacheContent: { Ok: null } });
        }
      }
      case 'GetStatus':
        return this.respond(km, {
          GetStatus: {
            last_cached_block: Number(this.lastCachedBlock),
            chain_id: CHAIN_ID,
            protocol_version: PROTOCOL_VERSION,
            next_cache_attempt_in_seconds: this.timerLive ? DEFAULT_CACHE_INTERVAL_S : null,
            manifest_filename: this.manifest.manifest_filename,
            log_files_count: Object.keys(this.manifest.items).length,
            our_address: `${this.kernel.our}@${this.id.processName}:${this.id.packageName}:${this.id.publisherNode}`,
            is_providing: this.isProviding,
          },
        });
      case 'GetLogsByRange':
        return this.respond(km, { GetLogsByRange: await this.logsByRange(arg) });
      case 'StartProviding':
      case 'StopProviding':
        if (local) this.isProviding = variant === 'StartProviding';
        return this.respond(km, localOnly({ [variant]: { Ok: `Provider mode ${variant === 'StartProviding' ? 'enabled' : 'disabled'}` } }));
      case 'SetNodes':
        if (!local) return this.respond(km, 'Rejected');
        if (!Array.isArray(arg) || !arg.every((n) => typeof n === 'string')) return this.respond(km, { SetNodes: { Err: 'SetNodes takes a list of node names' } });
        this.nodes = arg as string[];
        await this.writeNodes();
        return this.respond(km, { SetNodes: { Ok: 'Nodes updated successfully' } });
      case 'Reset':
        if (!local) return this.respond(km, 'Rejected');
        return this.respond(km, { Reset: await this.reset(arg) });
    }
    this.log.info(`not a CacherRequest: ${fromUtf8(km.message.val.body).slice(0, 200)}`);
    // Hyperdrive logs and answers nothing; a caller here learns what to send at once.
    this.respond(km, { Err: 'expected a CacherRequest (hypermap-cacher:sys-v1): "GetManifest", "GetStatus", {"GetLogsByRange": {"from_block", "to_block"}}, ...' });
  }

  private async writeNodes(): Promise<void> {
    await this.vfs(`${this.pkgDrive}/initfiles/cache_sources`, 'Write', Buffer.from(JSON.stringify(this.nodes)));
  }

  private witManifest(): unknown {
    return {
      items: Object.entries(this.manifest.items).map(([name, item]) => [
        name,
        {
          metadata: {
            chain_id: item.metadata.chainId,
            from_block: item.metadata.fromBlock,
            to_block: item.metadata.toBlock,
            time_created: item.metadata.timeCreated,
            created_by: item.metadata.createdBy,
            signature: item.metadata.signature,
          },
          is_empty: item.isEmpty,
          file_hash: item.fileHash,
          file_name: item.fileName,
        },
      ]),
      manifest_filename: this.manifest.manifest_filename,
      chain_id: this.manifest.chain_id,
      protocol_version: this.manifest.protocol_version,
    };
  }

  private async logsByRange(arg: unknown): Promise<unknown> {
    const a = (arg ?? {}) as { from_block?: unknown; to_block?: unknown };
    if (typeof a.from_block !== 'number' || (a.to_block !== null && a.to_block !== undefined && typeof a.to_block !== 'number'))
      return { Err: 'GetLogsByRange takes {"from_block": <u64>, "to_block": <u64> | null}' };
    const from = BigInt(a.from_block);
    const to = typeof a.to_block === 'number' ? BigInt(a.to_block) : BigInt('18446744073709551615');
    const caches: Array<{ metadata: LogsMetadata; logs: unknown[] }> = [];
    for (const item of Object.values(this.manifest.items)) {
      if (item.fileName === '') continue;
      const cFrom = BigInt(item.metadata.fromBlock);
      const cTo = BigInt(item.metadata.toBlock);
      if ((from > cFrom ? from : cFrom) > (to < cTo ? to : cTo)) continue;
      try {
        caches.push(JSON.parse(fromUtf8((await this.vfs(`${this.drive}/${item.fileName}`, 'Read')).blob ?? new Uint8Array())));
      } catch (e) {
        this.log.error(`cannot read cache file ${item.fileName}: ${(e as Error).message}`);
      }
    }
    caches.sort((x, y) => Number(BigInt(x.metadata.fromBlock) - BigInt(y.metadata.fromBlock)));
    if (caches.length === 0) return { Ok: { Latest: Number(this.lastCachedBlock) } };
    return { Ok: { Logs: [Number(this.lastCachedBlock), JSON.stringify(caches)] } };
  }

  private async reset(arg: unknown): Promise<unknown> {
    const run = async () => {
      try {
        const r = await this.vfs(this.drive, 'ReadDir');
        for (const e of (r.body as { ReadDir: Array<{ path: string }> }).ReadDir) await this.vfs(`/${e.path}`, 'RemoveFile').catch(() => {});
      } catch (e) {
        return { Err: `Failed to clear drive: ${(e as Error).message}` };
      }
      this.manifest = this.freshManifest();
      this.lastCachedBlock = FIRST_BLOCK;
      this.batchSize = 0n;
      this.isProviding = false;
      this.nodes = Array.isArray(arg) && arg.every((n) => typeof n === 'string') ? (arg as string[]) : [...DEFAULT_NODES];
      await this.writeNodes().catch(() => {});
      // Hyperdrive's process restarts with its new settings and bootstraps again.
      this.isStarting = true;
      void this.catchUp()
        .catch((e) => this.log.warning(`re-bootstrap failed: ${(e as Error).message}`))
        .finally(() => {
          this.isStarting = false;
        });
      return { Ok: 'Reset completed successfully. Hypermap Cacher will restart with new settings.' };
    };
    const result = this.queue.then(run);
    this.queue = result.then(
      () => {},
      () => {},
    );
    return result;
  }
}
