// downloads:app-store:sys — keeps package zips (`/app-store:sys/downloads/<pkg>:<pub>/<hash>.zip`
// and the `<hash>.json` manifest beside it), serves the packages it mirrors to other nodes, and
// downloads a package from a mirror on request, refusing bytes whose sha256 is not the version
// hash asked for (the on-chain one). Shapes follow the app-store:sys-v1 `downloads` interface:
//   local:  {"LocalDownload": {package_id, download_from, desired_version_hash}} -> "Success" | {"Err": …}
//           {"AddDownload": {package_id, version_hash, mirror}} + zip blob       -> "Success" | {"Err": …}
//           {"StartMirroring": package_id} / {"StopMirroring": package_id}        -> "Success"
//           {"GetFiles": package_id | null}                                      -> {"GetFiles": [entry…]}
//           {"RemoveFile": {package_id, version_hash}}                           -> "Success" | {"Err": …}
//   remote: {"MirrorCheck": package_id}                                          -> "Success" | {"Err": "NotMirroring"}
//           {"Chunk": {package_id, version_hash, offset, length}}                -> "Success" + bytes | {"Err": …}
// Difference from Hyperdrive: the downloader pulls chunks with request/response instead of the
// mirror pushing them to a spawned ft-worker; LocalDownload answers when the download is done.

import { sha256Hex, unzipAsync, type ZipLimits } from '../../../core/zip.js';
import { type KernelApi, type NativeProcess, SendErrorException } from '../../kernel/api.js';
import type { Logger } from '../../../core/log.js';
import { fromUtf8, type KernelMessage, type ProcessId, parseJsonBytes } from '../../../core/types.js';
import { answer, grantVfsRoot, VfsCallError, vfsCall } from './native.js';
import { type PackageIdJson, packageIdString, parsePackageIdJson, readManifest } from './plan.js';

export const DOWNLOADS_PROCESS: ProcessId = { processName: 'downloads', packageName: 'app-store', publisherNode: 'sys' };

export const DOWNLOADS_DIR = '/app-store:sys/downloads';
const STATE_DRIVE = '/app-store:sys/state';
const MIRRORING_FILE = `${STATE_DRIVE}/mirroring.json`;
/** Bytes per chunk: well under the network's 10 MB message limit. */
export const CHUNK_BYTES = 2 * 1024 * 1024;
const CHUNK_TIMEOUT_SECS = 30;
/** A download bigger than this is refused (a mirror that never stops sending). */
const MAX_ZIP_BYTES = 512 * 1024 * 1024;

type DownloadError =
  | 'NoPackage'
  | 'NotMirroring'
  | { HashMismatch: { desired: string; actual: string } }
  | 'FileNotFound'
  | 'VfsError'
  | 'Timeout'
  | 'InvalidManifest'
  | 'Offline';

class DownloadFailure extends Error {
  constructor(
    readonly err: DownloadError,
    message: string,
  ) {
    super(message);
  }
}

export function createAppStoreDownloads(opts: { zipLimits?: ZipLimits } = {}): NativeProcess {
  return new Downloads(opts.zipLimits);
}

class Downloads implements NativeProcess {
  readonly id = DOWNLOADS_PROCESS;
  private kernel!: KernelApi;
  private log!: Logger;
  private mirroring = new Set<string>();
  private ready: Promise<void> = Promise.resolve();
  /** The zip whose chunks are being served (re-read at offset 0, so a replaced file is seen). */
  private served?: { path: string; zip: Uint8Array };

  constructor(private readonly zipLimits?: ZipLimits) {}

  start(kernel: KernelApi): void {
    this.kernel = kernel;
    this.log = kernel.log.child('app-store-downloads');
    grantVfsRoot(kernel, this.id);
    this.ready = this.load().catch((e) => this.log.error(`could not read the mirroring list: ${(e as Error).message}`));
  }

  private vfs(path: string, action: unknown, blob?: Uint8Array) {
    return vfsCall(this.kernel, this.id, path, action, blob);
  }

  private async load(): Promise<void> {
    await this.vfs(STATE_DRIVE, 'CreateDrive');
    await this.vfs(DOWNLOADS_DIR, 'CreateDrive');
    try {
      const r = await this.vfs(MIRRORING_FILE, 'Read');
      const list = JSON.parse(fromUtf8(r.blob ?? new Uint8Array())) as unknown;
      if (Array.isArray(list)) for (const p of list) if (typeof p === 'string') this.mirroring.add(p);
    } catch (e) {
      if (!(e instanceof VfsCallError && e.notFound)) throw e;
    }
  }

  private async saveMirroring(): Promise<void> {
    await this.vfs(MIRRORING_FILE, 'Write', new TextEncoder().encode(JSON.stringify([...this.mirroring].sort())));
  }

  async handle(km: KernelMessage): Promise<void> {
    if (km.message.tag !== 'request') return;
    await this.ready;
    let req: unknown;
    try {
      req = parseJsonBytes(km.message.val.body);
    } catch {
      answer(this.kernel, this.id, km, { Err: 'InvalidManifest' });
      return;
    }
    const r = (req && typeof req === 'object' ? req : {}) as Record<string, unknown>;
    const local = km.source.node === this.kernel.our;
    try {
      if ('MirrorCheck' in r) return this.mirrorCheck(km, r.MirrorCheck);
      if ('Chunk' in r) return await this.chunk(km, r.Chunk);
      if (!local) {
        answer(this.kernel, this.id, km, { Err: 'NoPackage' });
        return;
      }
      if ('LocalDownload' in r) return await this.localDownload(km, r.LocalDownload);
      if ('AddDownload' in r) return await this.addDownload(km, r.AddDownload);
      if ('StartMirroring' in r || 'StopMirroring' in r) {
        const start = 'StartMirroring' in r;
        const pkg = packageIdString(parsePackageIdJson(start ? r.StartMirroring : r.StopMirroring));
        if (start) this.mirroring.add(pkg);
        else this.mirroring.delete(pkg);
        await this.saveMirroring();
        answer(this.kernel, this.id, km, 'Success');
        return;
      }
      if ('GetFiles' in r) return await this.getFiles(km, r.GetFiles);
      if ('RemoveFile' in r) return await this.removeFile(km, r.RemoveFile);
      answer(this.kernel, this.id, km, { Err: 'NoPackage' });
    } catch (e) {
      const err: DownloadError = e instanceof DownloadFailure ? e.err : e instanceof VfsCallError ? (e.notFound ? 'FileNotFound' : 'VfsError') : 'NoPackage';
      this.log.info(`request from ${km.source.node} failed: ${(e as Error).message}`);
      answer(this.kernel, this.id, km, { Err: err });
    }
  }

  private mirrorCheck(km: KernelMessage, arg: unknown): void {
    const pkg = packageIdString(parsePackageIdJson(arg));
    answer(this.kernel, this.id, km, this.mirroring.has(pkg) ? 'Success' : { Err: 'NotMirroring' });
  }

  /** Serve `length` bytes at `offset` of a zip we mirror (fewer at its end; none past it). */
  private async chunk(km: KernelMessage, arg: unknown): Promise<void> {
    const a = (arg ?? {}) as { package_id?: unknown; version_hash?: unknown; offset?: unknown; length?: unknown };
    const pkg = packageIdString(parsePackageIdJson(a.package_id));
    if (!this.mirroring.has(pkg)) throw new DownloadFailure('NotMirroring', `${pkg} is not mirrored here`);
    if (typeof a.version_hash !== 'string' || !/^[0-9a-f]{64}$/.test(a.version_hash)) throw new DownloadFailure('FileNotFound', 'bad version hash');
    const offset = Number(a.offset ?? 0);
    const length = Math.min(Number(a.length ?? CHUNK_BYTES), CHUNK_BYTES);
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length <= 0)
      throw new DownloadFailure('FileNotFound', 'bad offset or length');
    // A download asks for chunk after chunk of one zip: read it once, not once per chunk.
    const path = `${DOWNLOADS_DIR}/${pkg}/${a.version_hash}.zip`;
    if (this.served?.path !== path || offset === 0) this.served = { path, zip: (await this.vfs(path, 'Read')).blob ?? new Uint8Array() };
    const zip = this.served.zip;
    answer(this.kernel, this.id, km, 'Success', { mime: 'application/zip', bytes: zip.subarray(offset, offset + length) });
  }

  private async localDownload(km: KernelMessage, arg: unknown): Promise<void> {
    const a = (arg ?? {}) as { package_id?: unknown; download_from?: unknown; desired_version_hash?: unknown };
    const pkgJson = parsePackageIdJson(a.package_id);
    const pkg = packageIdString(pkgJson);
    const desired = a.desired_version_hash;
    if (typeof desired !== 'string' || !/^[0-9a-f]{64}$/.test(desired)) throw new DownloadFailure('NoPackage', `desired_version_hash ${JSON.stringify(desired)} is not a sha256`);
    const from = typeof a.download_from === 'string' && a.download_from !== '' ? a.download_from : pkgJson.publisher_node;
    const zip = from === this.kernel.our ? await this.readOwn(pkg, desired) : await this.fetchFrom(from, pkgJson, desired);
    const actual = sha256Hex(zip);
    if (actual !== desired) {
      this.kernel.print(0, `app-store: refused ${pkg} from ${from}: its zip hashes to ${actual}, not the version hash ${desired}`);
      throw new DownloadFailure({ HashMismatch: { desired, actual } }, `hash mismatch from ${from}`);
    }
    await this.store(pkg, desired, zip);
    // Its API, for GetApi before (or without) an install: what `kit view-api -d` asks for next.
    // store() has checked the zip (and its limits) already.
    const api = (await unzipAsync(zip, { ...this.zipLimits, only: (p) => p === 'api.zip' })).find((e) => e.path === 'api.zip' && !e.isDir);
    if (api) await this.vfs(`${DOWNLOADS_DIR}/${pkg}/api.zip`, 'Write', api.bytes);
    this.mirroring.add(pkg);
    await this.saveMirroring();
    this.kernel.print(1, `app-store: downloaded ${pkg} (${zip.length} bytes) from ${from}`);
    this.log.info(`downloaded ${pkg} version ${desired} from ${from}`);
    answer(this.kernel, this.id, km, 'Success');
  }

  private async readOwn(pkg: string, hash: string): Promise<Uint8Array> {
    return (await this.vfs(`${DOWNLOADS_DIR}/${pkg}/${hash}.zip`, 'Read')).blob ?? new Uint8Array();
  }

  private async fetchFrom(node: string, pkg: PackageIdJson, hash: string): Promise<Uint8Array> {
    const target = { node, process: this.id };
    const ask = async (body: unknown) => {
      try {
        return await this.kernel.request(this.id, target, JSON.stringify(body), { timeoutSecs: CHUNK_TIMEOUT_SECS });
      } catch (e) {
        const code = e instanceof SendErrorException ? e.code : 'offline';
        throw new DownloadFailure(code === 'timeout' ? 'Timeout' : 'Offline', `${node} did not answer: ${(e as Error).message}`);
      }
    };
    const check = parseJsonBytes((await ask({ MirrorCheck: pkg })).response.body);
    if (check !== 'Success') throw new DownloadFailure('NotMirroring', `${node} does not mirror ${packageIdString(pkg)}`);
    const parts: Uint8Array[] = [];
    let offset = 0;
    for (;;) {
      const r = await ask({ Chunk: { package_id: pkg, version_hash: hash, offset, length: CHUNK_BYTES } });
      const body = parseJsonBytes(r.response.body);
      if (body !== 'Success') {
        const err = (body as { Err?: DownloadError })?.Err ?? 'FileNotFound';
        throw new DownloadFailure(err, `${node} answered ${JSON.stringify(body)}`);
      }
      const bytes = r.blob?.bytes ?? new Uint8Array();
      parts.push(bytes);
      offset += bytes.length;
      if (offset > MAX_ZIP_BYTES) throw new DownloadFailure('Timeout', `${node} sent more than ${MAX_ZIP_BYTES} bytes`);
      if (bytes.length < CHUNK_BYTES) break;
    }
    const zip = new Uint8Array(offset);
    let at = 0;
    for (const p of parts) {
      zip.set(p, at);
      at += p.length;
    }
    return zip;
  }

  private async store(pkg: string, hash: string, zip: Uint8Array): Promise<void> {
    let manifest: Uint8Array;
    try {
      manifest = await readManifest(zip, this.zipLimits);
    } catch (e) {
      throw new DownloadFailure('InvalidManifest', (e as Error).message);
    }
    const dir = `${DOWNLOADS_DIR}/${pkg}`;
    await this.vfs(dir, 'CreateDirAll');
    await this.vfs(`${dir}/${hash}.zip`, 'Write', zip);
    await this.vfs(`${dir}/${hash}.json`, 'Write', manifest);
  }

  private async addDownload(km: KernelMessage, arg: unknown): Promise<void> {
    const a = (arg ?? {}) as { package_id?: unknown; version_hash?: unknown; mirror?: unknown };
    const pkg = packageIdString(parsePackageIdJson(a.package_id));
    const zip = km.lazyLoadBlob?.bytes;
    if (!zip) throw new DownloadFailure('NoPackage', 'AddDownload needs the zip as blob');
    const hash = sha256Hex(zip);
    if (typeof a.version_hash === 'string' && a.version_hash !== '' && a.version_hash !== hash)
      throw new DownloadFailure({ HashMismatch: { desired: a.version_hash, actual: hash } }, 'hash mismatch');
    await this.store(pkg, hash, zip);
    if (a.mirror === true) this.mirroring.add(pkg);
    else this.mirroring.delete(pkg);
    await this.saveMirroring();
    answer(this.kernel, this.id, km, 'Success');
  }

  private async getFiles(km: KernelMessage, arg: unknown): Promise<void> {
    const entries: unknown[] = [];
    if (arg === null || arg === undefined) {
      const r = await this.vfs(DOWNLOADS_DIR, 'ReadDir');
      for (const e of (r.body as { ReadDir: Array<{ path: string; file_type: string }> }).ReadDir) {
        if (e.file_type !== 'Directory') continue;
        const name = e.path.split('/').pop() ?? '';
        entries.push({ Dir: { name, mirroring: this.mirroring.has(name) } });
      }
    } else {
      const pkg = packageIdString(parsePackageIdJson(arg));
      const r = await this.vfs(`${DOWNLOADS_DIR}/${pkg}`, 'ReadDir');
      for (const e of (r.body as { ReadDir: Array<{ path: string; file_type: string }> }).ReadDir) {
        const name = e.path.split('/').pop() ?? '';
        if (!name.endsWith('.zip')) continue;
        const zip = (await this.vfs(`/${e.path}`, 'Read')).blob ?? new Uint8Array();
        const manifest = await this.vfs(`/${e.path.replace(/\.zip$/, '.json')}`, 'Read').then((m) => fromUtf8(m.blob ?? new Uint8Array()), () => '');
        entries.push({ File: { name, size: zip.length, manifest } });
      }
    }
    answer(this.kernel, this.id, km, { GetFiles: entries });
  }

  private async removeFile(km: KernelMessage, arg: unknown): Promise<void> {
    const a = (arg ?? {}) as { package_id?: unknown; version_hash?: unknown };
    const pkg = packageIdString(parsePackageIdJson(a.package_id));
    if (typeof a.version_hash !== 'string' || !/^[0-9a-f]{64}$/.test(a.version_hash)) throw new DownloadFailure('FileNotFound', 'bad version hash');
    await this.vfs(`${DOWNLOADS_DIR}/${pkg}/${a.version_hash}.zip`, 'RemoveFile');
    await this.vfs(`${DOWNLOADS_DIR}/${pkg}/${a.version_hash}.json`, 'RemoveFile').catch(() => {});
    answer(this.kernel, this.id, km, 'Success');
  }
}
