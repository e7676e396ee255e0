// `<u64>:app-store:sys` — the App Store's file-transfer workers, as Hyperdrive's ft-worker
// (hyperdrive/packages/app-store/ft-worker/src/lib.rs): downloads:app-store:sys starts one per
// transfer. A sender, on the mirror, reads `/app-store:sys/downloads/<pkg>/<hash>.zip` and pushes
// it to the receiving worker's address as `{"Size": {package_id, size}}` then one
// `{"Chunk": {package_id, version_hash, offset, length}}` Request per 256 KiB with the bytes as
// blob, none expecting a Response. A receiver, on the downloading node, hashes what arrives, sends
// `{"Progress": …}` per chunk and finally `{"DownloadComplete": {package_id, version_hash, err}}`
// to its parent; after 120 s without finishing it reports `Timeout`. Each worker then exits.
// Stricter than Hyperdrive's (whose receiver writes the bytes as they come and reports success
// even after a hash mismatch): only bytes from an app-store:sys process on the node asked are
// taken, and `<hash>.zip` is written only once its sha256 is the version hash.

import { createHash } from 'node:crypto';
import type { KernelApi, NativeProcess } from '../../kernel/api.js';
import type { Logger } from '../../../core/log.js';
import {
  type Address,
  type Capability,
  type KernelMessage,
  messagingCap,
  NETWORK_PARAMS,
  type ProcessId,
  parseJsonBytes,
  randomU64,
  systemProcess,
} from '../../../core/types.js';
import { unzip } from '../../../core/zip.js';
import { vfsCall } from './native.js';
import { type PackageIdJson, packageIdString } from './plan.js';

/** ft-worker's CHUNK_SIZE. */
export const CHUNK_SIZE = 262_144;
/** ft-worker's KILL_SWITCH_MS. */
const KILL_SWITCH_MS = 120_000;
/** A transfer bigger than this is refused (a sender that announces or sends without end). */
const MAX_ZIP_BYTES = 512 * 1024 * 1024;
export const DOWNLOADS_DIR = '/app-store:sys/downloads';

export type DownloadError =
  | 'NoPackage'
  | 'NotMirroring'
  | { HashMismatch: { desired: string; actual: string } }
  | 'FileNotFound'
  | 'WorkerSpawnFailed'
  | 'HttpClientError'
  | 'BlobNotFound'
  | 'VfsError'
  | 'Timeout'
  | 'InvalidManifest'
  | 'Offline';

export interface DownloadCompleteRequest {
  package_id: PackageIdJson;
  version_hash: string;
  err: DownloadError | null;
}

function workerId(): ProcessId {
  return { processName: randomU64().toString(), packageName: 'app-store', publisherNode: 'sys' };
}

/** The manifest.json inside a package zip, if it has one (what Hyperdrive writes as `<hash>.json`). */
export function zipManifest(zip: Uint8Array): Uint8Array | undefined {
  try {
    return unzip(zip, { only: (p) => p === 'manifest.json' }).find((e) => e.path === 'manifest.json' && !e.isDir)?.bytes;
  } catch {
    return undefined;
  }
}

/**
 * Keep a zip as downloads:app-store:sys does: `<hash>.zip` and its manifest as `<hash>.json`;
 * and (ours only) for one downloaded from elsewhere, its api.zip, so GetApi can answer before an
 * install.
 */
export async function storeDownload(kernel: KernelApi, as: ProcessId, pkg: string, hash: string, zip: Uint8Array, downloaded = true): Promise<void> {
  const dir = `${DOWNLOADS_DIR}/${pkg}`;
  await vfsCall(kernel, as, dir, 'CreateDirAll');
  await vfsCall(kernel, as, `${dir}/${hash}.zip`, 'Write', zip);
  const manifest = zipManifest(zip);
  if (manifest) await vfsCall(kernel, as, `${dir}/${hash}.json`, 'Write', manifest);
  if (!downloaded) return;
  let api: Uint8Array | undefined;
  try {
    api = unzip(zip, { only: (p) => p === 'api.zip' }).find((e) => e.path === 'api.zip' && !e.isDir)?.bytes;
  } catch {
    api = undefined;
  }
  if (api) await vfsCall(kernel, as, `${dir}/api.zip`, 'Write', api);
}

abstract class Worker implements NativeProcess {
  readonly id = workerId();
  protected kernel!: KernelApi;
  protected log!: Logger;
  private done = false;

  constructor(
    protected readonly pkg: PackageIdJson,
    protected readonly hash: string,
  ) {}

  start(kernel: KernelApi): void {
    this.kernel = kernel;
    this.log = kernel.log.child(`ft-worker ${this.id.processName}`);
  }

  abstract handle(km: KernelMessage): void | Promise<void>;

  protected exit(): void {
    if (this.done) return;
    this.done = true;
    this.kernel.exitNative?.(this.id);
  }

  get finished(): boolean {
    return this.done;
  }

  address(): Address {
    return { node: this.kernel.our, process: this.id };
  }
}

/** Receives one zip from `from` for `parent` (downloads:app-store:sys). */
class Receiver extends Worker {
  private size?: number;
  private parts: Uint8Array[] = [];
  private received = 0;
  private readonly hasher = createHash('sha256');
  private killSwitch?: NodeJS.Timeout;
  private writing = false;

  constructor(
    pkg: PackageIdJson,
    hash: string,
    private readonly from: string,
    private readonly parent: ProcessId,
  ) {
    super(pkg, hash);
  }

  override start(kernel: KernelApi): void {
    super.start(kernel);
    this.killSwitch = setTimeout(() => this.complete('Timeout'), KILL_SWITCH_MS);
    this.killSwitch.unref?.();
  }

  stop(): void {
    if (this.killSwitch) clearTimeout(this.killSwitch);
  }

  /** The parent ends a transfer the mirror refused (no DownloadComplete from here then). */
  cancel(): void {
    if (this.killSwitch) clearTimeout(this.killSwitch);
    this.exit();
  }

  handle(km: KernelMessage): void {
    if (km.message.tag !== 'request' || this.finished || this.writing) return;
    const src = km.source;
    if (src.node !== this.from || src.process.packageName !== 'app-store' || src.process.publisherNode !== 'sys') {
      this.log.info(`ignoring a message from ${src.node}@${src.process.processName}:app-store:sys: this transfer is from ${this.from}`);
      return;
    }
    let body: Record<string, unknown>;
    try {
      body = parseJsonBytes<Record<string, unknown>>(km.message.val.body) ?? {};
    } catch {
      return;
    }
    if (body.Size && typeof body.Size === 'object') {
      const size = Number((body.Size as { size?: unknown }).size);
      if (!Number.isSafeInteger(size) || size < 0 || size > MAX_ZIP_BYTES) {
        this.complete('InvalidManifest', `announced size ${size}`);
        return;
      }
      this.size = size;
      this.maybeFinish();
      return;
    }
    if (body.Chunk && typeof body.Chunk === 'object') {
      const c = body.Chunk as { offset?: unknown; length?: unknown };
      const bytes = km.lazyLoadBlob?.bytes;
      if (!bytes) {
        this.complete('BlobNotFound', 'a chunk came without its bytes');
        return;
      }
      if (Number(c.offset) !== this.received) {
        this.complete('FileNotFound', `chunk at ${c.offset}, expected ${this.received}`);
        return;
      }
      this.received += bytes.length;
      if (this.received > (this.size ?? MAX_ZIP_BYTES)) {
        this.complete('FileNotFound', 'more bytes than announced');
        return;
      }
      this.parts.push(bytes);
      this.hasher.update(bytes);
      if (this.size !== undefined)
        this.kernel.tell(
          this.id,
          { node: this.kernel.our, process: this.parent },
          JSON.stringify({ Progress: { package_id: this.pkg, version_hash: this.hash, downloaded: this.received, total: this.size } }),
        );
      this.maybeFinish();
    }
  }

  private maybeFinish(): void {
    if (this.size === undefined || this.received < this.size || this.size === 0) return;
    const actual = this.hasher.digest('hex');
    if (actual !== this.hash) {
      this.kernel.print(1, `ft_worker: ${packageIdString(this.pkg)} hash mismatch: desired: ${this.hash} != actual: ${actual}`);
        this.complete({ HashMismatch: { desired: this.hash, actual } });
        return;
    }
    const zip = Buffer.concat(this.parts);
    this.parts = [];
    this.writing = true;
    storeDownload(this.kernel, this.id, packageIdString(this.pkg), this.hash, zip).then(
      () => this.complete(null),
      (e) => this.complete('VfsError', (e as Error).message),
    );
  }

  private complete(err: DownloadError | null, why?: string): void {
    if (this.finished) return;
    if (this.killSwitch) clearTimeout(this.killSwitch);
    if (why) this.log.info(`transfer of ${packageIdString(this.pkg)} from ${this.from} failed: ${why}`);
    const done: DownloadCompleteRequest = { package_id: this.pkg, version_hash: this.hash, err };
    this.kernel.tell(this.id, { node: this.kernel.our, process: this.parent }, JSON.stringify({ DownloadComplete: done }));
    this.exit();
  }
}

/** Pushes one zip we hold to a receiving worker's address. */
class Sender extends Worker {
  constructor(
    pkg: PackageIdJson,
    hash: string,
    private readonly to: Address,
    private readonly onDone: () => void,
  ) {
    super(pkg, hash);
  }

  override start(kernel: KernelApi): void {
    super.start(kernel);
    void this.send()
      .catch((e) => this.kernel.print(1, `ft_worker: send error: ${(e as Error).message}`))
      .finally(() => {
        this.exit();
        this.onDone();
      });
  }

  handle(): void {}

  private async send(): Promise<void> {
    const path = `${DOWNLOADS_DIR}/${packageIdString(this.pkg)}/${this.hash}.zip`;
    const zip = (await vfsCall(this.kernel, this.id, path, 'Read')).blob ?? new Uint8Array();
    const size = zip.length;
    this.kernel.tell(this.id, this.to, JSON.stringify({ Size: { package_id: this.pkg, size } }));
    for (let offset = 0; offset < size; offset += CHUNK_SIZE) {
      const length = Math.min(CHUNK_SIZE, size - offset);
      const chunk = { Chunk: { package_id: this.pkg, version_hash: this.hash, offset, length } };
      this.kernel.tell(this.id, this.to, JSON.stringify(chunk), { blob: { bytes: zip.subarray(offset, offset + length) } });
    }
    this.kernel.print(1, `ft_worker: sent package to ${this.to.node}@${this.to.process.processName}:app-store:sys (${size} bytes)`);
  }
}

/** What Hyperdrive's workers get from `our_capabilities()` of downloads, as far as they use it. */
function workerCaps(kernel: KernelApi, parent: ProcessId): Capability[] {
  const at = (p: ProcessId) => ({ node: kernel.our, process: p });
  return [messagingCap(at(parent)), messagingCap(at(systemProcess('vfs'))), { issuer: at(systemProcess('kernel')), params: NETWORK_PARAMS }];
}

export interface ReceiveHandle {
  address: Address;
  /** End the transfer without a DownloadComplete (its mirror refused it). */
  cancel(): void;
}

/** spawn_receive_transfer: a worker that takes `pkg` at `hash` from `from` and tells `parent`. */
export async function spawnReceiveTransfer(
  kernel: KernelApi,
  parent: ProcessId,
  pkg: PackageIdJson,
  hash: string,
  from: string,
): Promise<ReceiveHandle> {
  if (!kernel.spawnNative) throw new Error('this kernel cannot start transfer workers');
  const w = new Receiver(pkg, hash, from, parent);
  await kernel.spawnNative(w, workerCaps(kernel, parent));
  return { address: w.address(), cancel: () => w.cancel() };
}

/** spawn_send_transfer: a worker that pushes our `<hash>.zip` of `pkg` to `to`; `onDone` once it has. */
export async function spawnSendTransfer(kernel: KernelApi, parent: ProcessId, pkg: PackageIdJson, hash: string, to: Address, onDone: () => void): Promise<void> {
  if (!kernel.spawnNative) throw new Error('this kernel cannot start transfer workers');
  await kernel.spawnNative(new Sender(pkg, hash, to, onDone), workerCaps(kernel, parent));
}
