// downloads:app-store:sys — keeps package zips (`/app-store:sys/downloads/<pkg>:<pub>/<hash>.zip`
// and the `<hash>.json` manifest beside it), serves the packages it mirrors to other nodes, and
// downloads packages from mirrors, as Hyperdrive's (hyperdrive/packages/app-store/downloads/src/
// lib.rs) with the app-store:sys-v2 `download-request` shapes:
//   {"MirrorCheck": package_id}            (anyone) -> "Success" | {"Err": "NotMirroring"}
//   {"RemoteDownload": {package_id, worker_address, desired_version_hash}}
//                                          (anyone) -> "Success", and a sending ft-worker pushes
//                                                      the zip to worker_address; or {"Err": …}
//   {"LocalDownload": {package_id, download_from, desired_version_hash}}
//       (local) no Response: a receiving ft-worker is started and RemoteDownload sent to
//       download_from (or, for an http(s) URL, the zip fetched with http-client); completion
//       reaches main:app-store:sys as a DownloadComplete record {package_id, version_hash, err},
//       and another published mirror is tried after a failure, as Hyperdrive does.
//   {"AutoUpdate": {package_id, metadata}} (chain) fetch the current version unless held
//   {"AddDownload": {package_id, version_hash, mirror}} + zip -> "Success" | {"Err": …}
//   {"StartMirroring"|"StopMirroring": package_id} -> "Success"
//   {"GetFiles": package_id | null} -> {"GetFiles": [{"File": {name, size, manifest}} | {"Dir": {name, mirroring}}]}
//   {"RemoveFile": {package_id, version_hash}} -> "Success"
//   {"Progress"|"DownloadComplete": …}    (our workers) forwarded to main
// Beyond Hyperdrive: every zip kept here hashes to its name (AddDownload checks; a transfer that
// does not hash right is not kept), and a mirror that cannot be reached or refuses is reported to
// main at once instead of when the worker's 120 s kill switch fires.

import { keccak256 } from 'viem';
import { sha256Hex } from '../../../core/zip.js';
import { type KernelApi, type NativeProcess, SendErrorException } from '../../kernel/api.js';
import type { Logger } from '../../../core/log.js';
import { fromUtf8, type KernelMessage, type ProcessId, parseJsonBytes, systemProcess } from '../../../core/types.js';
import {
  type DownloadCompleteRequest,
  type DownloadError,
  DOWNLOADS_DIR,
  type ReceiveHandle,
  spawnReceiveTransfer,
  spawnSendTransfer,
  storeDownload,
  zipManifest,
} from './ft-worker.js';
import { answer, grantVfsRoot, VfsCallError, vfsCall } from './native.js';
import { type PackageIdJson, packageIdString, parsePackageIdJson } from './plan.js';

export { DOWNLOADS_DIR } from './ft-worker.js';
export type { DownloadCompleteRequest, DownloadError } from './ft-worker.js';

export const DOWNLOADS_PROCESS: ProcessId = { processName: 'downloads', packageName: 'app-store', publisherNode: 'sys' };
const MAIN_PROCESS: ProcessId = { processName: 'main', packageName: 'app-store', publisherNode: 'sys' };
const CHAIN_PROCESS: ProcessId = { processName: 'chain', packageName: 'app-store', publisherNode: 'sys' };

const STATE_DRIVE = '/app-store:sys/state';
const MIRRORING_FILE = `${STATE_DRIVE}/mirroring.json`;
/** Hyperdrive's downloads waits 60 s for a mirror's answer to RemoteDownload, and for chain. */
const REMOTE_TIMEOUT_SECS = 60;
const HASH = /^[0-9a-f]{64}$/;
/**
 * Transfers this mirror pushes at once (each holds its zip in memory); more RemoteDownloads are
 * refused with WorkerSpawnFailed until one ends. Hyperdrive has no limit.
 */
const MAX_SENDING = 16;

/** Mirrors still to try for one (package, version) download, as Hyperdrive's Auto/ManualDownloadStatus. */
interface MirrorStatus {
  mirrors_left: string[];
  mirrors_failed: Array<[string, DownloadError]>;
  active_mirror: string;
}

interface LocalDownloadRequest {
  package_id: PackageIdJson;
  download_from: string;
  desired_version_hash: string;
}

export function createAppStoreDownloads(): NativeProcess {
  return new Downloads();
}

function keyOf(pkg: PackageIdJson, hash: string): string {
  return `${packageIdString(pkg)}/${hash}`;
}

class Downloads implements NativeProcess {
  readonly id = DOWNLOADS_PROCESS;
  private kernel!: KernelApi;
  private log!: Logger;
  private mirroring = new Set<string>();
  private ready: Promise<void> = Promise.resolve();
  private autoUpdates = new Map<string, MirrorStatus>();
  private manualDownloads = new Map<string, MirrorStatus>();
  /** The receiving worker of each transfer in flight. */
  private receivers = new Map<string, ReceiveHandle>();
  private sending = 0;

  start(kernel: KernelApi): void {
    this.kernel = kernel;
    this.log = kernel.log.child('app-store-downloads');
    grantVfsRoot(kernel, this.id);
    this.ready = this.load().catch((e) => this.log.error(`could not read the mirroring list: ${(e as Error).message}`));
  }

  private vfs(path: string, action: unknown, blob?: Uint8Array) {
    return vfsCall(this.kernel, this.id, path, action, blob);
  }

  private tell(process: ProcessId, body: unknown): void {
    this.kernel.tell(this.id, { node: this.kernel.our, process }, JSON.stringify(body));
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
    const variant = Object.keys(r)[0] ?? JSON.stringify(req);
    const local = km.source.node === this.kernel.our;
    try {
      switch (variant) {
        case 'MirrorCheck': {
          const pkg = packageIdString(parsePackageIdJson(r.MirrorCheck));
          answer(this.kernel, this.id, km, this.mirroring.has(pkg) ? 'Success' : { Err: 'NotMirroring' });
          return;
        }
        case 'RemoteDownload':
          return await this.remoteDownload(km, r.RemoteDownload);
      }
      if (!local) {
        // Hyperdrive drops these without a word; a remote caller here learns it at once.
        this.log.info(`refused ${variant} from ${km.source.node}: only MirrorCheck and RemoteDownload are served to other nodes`);
        answer(this.kernel, this.id, km, { Err: 'NoPackage' });
        return;
      }
      switch (variant) {
        case 'LocalDownload':
          return await this.localDownload(r.LocalDownload);
        case 'AutoUpdate':
          return await this.autoUpdate(r.AutoUpdate);
        case 'Progress':
          if (km.source.process.packageName === 'app-store') this.tell(MAIN_PROCESS, r.Progress);
          return;
        case 'DownloadComplete':
          if (km.source.process.packageName === 'app-store') await this.downloadComplete(r.DownloadComplete as DownloadCompleteRequest);
          return;
        case 'AddDownload':
          return await this.addDownload(km, r.AddDownload);
        case 'StartMirroring':
        case 'StopMirroring': {
          const pkg = packageIdString(parsePackageIdJson(r[variant]));
          if (variant === 'StartMirroring') this.mirroring.add(pkg);
          else this.mirroring.delete(pkg);
          await this.saveMirroring();
          answer(this.kernel, this.id, km, 'Success');
          return;
        }
        case 'GetFiles':
          return await this.getFiles(km, r.GetFiles);
        case 'RemoveFile':
          return await this.removeFile(km, r.RemoveFile);
      }
      this.kernel.print(1, `downloads: unexpected download request: ${fromUtf8(km.message.val.body).slice(0, 200)}`);
      answer(this.kernel, this.id, km, { Err: 'NoPackage' });
    } catch (e) {
      const err: DownloadError = e instanceof VfsCallError ? (e.notFound ? 'FileNotFound' : 'VfsError') : 'NoPackage';
      // A package folder not there yet is what the App Store page and kit poll for: not news.
      if (e instanceof VfsCallError && e.notFound) this.log.debug(`${variant} from ${km.source.node}: ${(e as Error).message}`);
      else this.log.info(`${variant} from ${km.source.node} failed: ${(e as Error).message}`);
      answer(this.kernel, this.id, km, { Err: err });
    }
  }

  // ---- serving a mirror ------------------------------------------------------------------------

  /** A node asks us to push a zip we mirror to its receiving worker. */
  private async remoteDownload(km: KernelMessage, arg: unknown): Promise<void> {
    const a = (arg ?? {}) as { package_id?: unknown; desired_version_hash?: unknown; worker_address?: unknown };
    const pkgJson = parsePackageIdJson(a.package_id);
    const pkg = packageIdString(pkgJson);
    if (!this.mirroring.has(pkg)) return answer(this.kernel, this.id, km, { Err: 'NotMirroring' });
    const hash = a.desired_version_hash;
    if (typeof hash !== 'string' || !HASH.test(hash) || !(await this.zipExists(pkg, hash))) return answer(this.kernel, this.id, km, { Err: 'FileNotFound' });
    let to: ReturnType<typeof parseWorkerAddress>;
    try {
      to = parseWorkerAddress(a.worker_address, km.source.node);
    } catch (e) {
      this.log.info(`RemoteDownload from ${km.source.node}: ${(e as Error).message}`);
      return answer(this.kernel, this.id, km, { Err: 'WorkerSpawnFailed' });
    }
    if (this.sending >= MAX_SENDING) {
      this.log.warning(`refused RemoteDownload from ${km.source.node}: ${MAX_SENDING} transfers already under way`);
      return answer(this.kernel, this.id, km, { Err: 'WorkerSpawnFailed' });
    }
    try {
      this.sending++;
      await spawnSendTransfer(this.kernel, this.id, pkgJson, hash, to, () => this.sending--);
    } catch (e) {
      this.sending--;
      this.log.error(`cannot start a sending worker: ${(e as Error).message}`);
      return answer(this.kernel, this.id, km, { Err: 'WorkerSpawnFailed' });
    }
    this.log.info(`sending ${pkg} version ${hash.slice(0, 12)} to ${km.source.node}`);
    answer(this.kernel, this.id, km, 'Success');
  }

  private async zipExists(pkg: string, hash: string): Promise<boolean> {
    try {
      const r = await this.vfs(`${DOWNLOADS_DIR}/${pkg}/${hash}.zip`, 'Metadata');
      return (r.body as { Metadata?: { file_type?: string } }).Metadata?.file_type === 'File';
    } catch {
      return false;
    }
  }

  // ---- downloading -----------------------------------------------------------------------------

  private async localDownload(arg: unknown): Promise<void> {
    const a = (arg ?? {}) as { package_id?: unknown; download_from?: unknown; desired_version_hash?: unknown };
    const req: LocalDownloadRequest = {
      package_id: parsePackageIdJson(a.package_id),
      download_from: typeof a.download_from === 'string' ? a.download_from : '',
      desired_version_hash: typeof a.desired_version_hash === 'string' ? a.desired_version_hash : '',
    };
    const key = keyOf(req.package_id, req.desired_version_hash);
    const pkg = packageIdString(req.package_id);
    if (!HASH.test(req.desired_version_hash) || req.download_from === '') {
      this.kernel.print(0, `downloads: LocalDownload of ${pkg} needs a download_from node and a desired_version_hash (64 lowercase hex digits)`);
      return this.completeToMain({ package_id: req.package_id, version_hash: req.desired_version_hash, err: 'NoPackage' });
    }
    if (req.download_from.startsWith('http')) return this.httpDownload(req);
    if (!this.autoUpdates.has(key) && !this.manualDownloads.has(key)) await this.buildManualMirrorStatus(req);

    this.receivers.get(key)?.cancel();
    let worker: ReceiveHandle;
    try {
      worker = await spawnReceiveTransfer(this.kernel, this.id, req.package_id, req.desired_version_hash, req.download_from);
    } catch (e) {
      this.log.error(`cannot start a receiving worker: ${(e as Error).message}`);
      return this.failed(req, key, 'WorkerSpawnFailed');
    }
    this.receivers.set(key, worker);
    const remote = {
      RemoteDownload: {
        package_id: req.package_id,
        desired_version_hash: req.desired_version_hash,
        worker_address: `${worker.address.node}@${worker.address.process.processName}:app-store:sys`,
      },
    };
    this.log.info(`downloading ${pkg} version ${req.desired_version_hash} from ${req.download_from}`);
    // No await: the mirror's answer (or its absence) is handled when it comes, as a Response with context.
    void this.kernel.request(this.id, { node: req.download_from, process: this.id }, JSON.stringify(remote), { timeoutSecs: REMOTE_TIMEOUT_SECS }).then(
      (reply) => {
        let body: unknown;
        try {
          body = parseJsonBytes(reply.response.body);
        } catch {
          body = undefined;
        }
        if (body === 'Success') return;
        const err = ((body as { Err?: DownloadError } | undefined)?.Err ?? 'NoPackage') as DownloadError;
        this.kernel.print(1, `downloads: got error response: ${JSON.stringify(err)}`);
        this.endTransfer(key, worker);
        return this.failed(req, key, err);
      },
      (e) => {
        const err: DownloadError = e instanceof SendErrorException && e.sendError.kind === 'offline' ? 'Offline' : 'Timeout';
        this.kernel.print(1, `downloads: got network error: ${req.download_from} ${err === 'Offline' ? 'is offline' : 'did not answer'}`);
        this.endTransfer(key, worker);
        return this.failed(req, key, err);
      },
    );
  }

  /** The LocalDownload Hyperdrive's downloads sends itself (for the next mirror, or an auto-update). */
  private again(req: LocalDownloadRequest): void {
    void this.localDownload(req).catch((e) => this.log.error(`LocalDownload of ${packageIdString(req.package_id)} failed: ${(e as Error).message}`));
  }

  private endTransfer(key: string, worker: ReceiveHandle): void {
    worker.cancel();
    if (this.receivers.get(key) === worker) this.receivers.delete(key);
  }

  /** A mirror failed: the next one, or tell main (Hyperdrive tells main only when it tracks retries). */
  private async failed(req: LocalDownloadRequest, key: string, err: DownloadError): Promise<void> {
    const auto = this.autoUpdates.get(key);
    if (auto) {
      this.autoUpdates.delete(key);
      return this.tryNextMirror(auto, req, key, err);
    }
    const manual = this.manualDownloads.get(key);
    if (manual) {
      this.manualDownloads.delete(key);
      return this.tryNextManualMirror(manual, req, key, err);
    }
    this.completeToMain({ package_id: req.package_id, version_hash: req.desired_version_hash, err });
  }

  private completeToMain(done: DownloadCompleteRequest): void {
    if (done.err) this.kernel.print(0, `app-store: download of ${packageIdString(done.package_id)} failed: ${describe(done.err)}`);
    this.tell(MAIN_PROCESS, done);
  }

  /** The publisher and the published mirrors, the one asked for first (build_manual_mirror_status). */
  private async buildManualMirrorStatus(req: LocalDownloadRequest): Promise<void> {
    const key = keyOf(req.package_id, req.desired_version_hash);
    const candidates = await this.mirrorCandidates(req.package_id).catch((e) => {
      this.kernel.print(1, `downloads: failed to fetch mirrors for manual download: ${(e as Error).message}`);
      return [] as string[];
    });
    const i = candidates.indexOf(req.download_from);
    if (i >= 0) candidates.splice(i, 1);
    candidates.unshift(req.download_from);
    if (candidates.length <= 1) return;
    this.manualDownloads.set(key, { mirrors_left: candidates.slice(1), mirrors_failed: [], active_mirror: candidates[0] });
  }

  private async mirrorCandidates(pkg: PackageIdJson): Promise<string[]> {
    const r = await this.kernel.request(this.id, { node: this.kernel.our, process: CHAIN_PROCESS }, JSON.stringify({ GetApp: pkg }), {
      timeoutSecs: REMOTE_TIMEOUT_SECS,
    });
    const app = (parseJsonBytes(r.response.body) as { GetApp?: { metadata?: { properties?: { publisher?: string; mirrors?: string[] } } | null } | null })?.GetApp;
    return mirrorList(app?.metadata?.properties);
  }

  private tryNextManualMirror(status: MirrorStatus, req: LocalDownloadRequest, key: string, err: DownloadError): void {
    const next = status.mirrors_left[0];
    this.kernel.print(0, `manual_download: got error from mirror ${JSON.stringify(status.active_mirror)} ${describe(err)}, trying next mirror: ${next ?? 'none'}`);
    if (next === undefined) {
      this.completeToMain({ package_id: req.package_id, version_hash: req.desired_version_hash, err });
      return;
    }
    status.mirrors_failed.push([status.active_mirror, err]);
    status.mirrors_left.shift();
    status.active_mirror = next;
    this.manualDownloads.set(key, status);
    this.again({ ...req, download_from: next });
  }

  private tryNextMirror(status: MirrorStatus, req: LocalDownloadRequest, key: string, err: DownloadError): void {
    const next = status.mirrors_left[0];
    this.kernel.print(0, `auto_update: got error from mirror ${JSON.stringify(status.active_mirror)} ${describe(err)}, trying next mirror: ${next ?? 'none'}`);
    status.mirrors_failed.push([status.active_mirror, err]);
    if (next !== undefined) {
      status.active_mirror = next;
      status.mirrors_left.shift();
      this.autoUpdates.set(key, status);
      this.again({ ...req, download_from: next });
      return;
    }
    this.kernel.print(0, `auto_update: no more mirrors to try for ${packageIdString(req.package_id)}`);
    this.tell(MAIN_PROCESS, { Err: { package_id: req.package_id, version_hash: req.desired_version_hash, tries: status.mirrors_failed } });
  }

  /** A receiving worker finished (err null) or gave up. */
  private async downloadComplete(done: DownloadCompleteRequest): Promise<void> {
    const pkg = parsePackageIdJson(done?.package_id);
    const key = keyOf(pkg, done.version_hash);
    this.receivers.delete(key);
    this.tell(MAIN_PROCESS, done);
    if (done.err) this.kernel.print(0, `app-store: download of ${packageIdString(pkg)} failed: ${describe(done.err)}`);
    else this.kernel.print(1, `app-store: downloaded ${packageIdString(pkg)} version ${done.version_hash}`);
    const req: LocalDownloadRequest = { package_id: pkg, download_from: '', desired_version_hash: done.version_hash };
    const auto = this.autoUpdates.get(key);
    if (auto) {
      this.autoUpdates.delete(key);
      if (done.err) return this.tryNextMirror(auto, req, key, done.err);
      try {
        await this.autoUpdateSuccess(pkg, done.version_hash);
      } catch {
        this.tryNextMirror(auto, req, key, 'InvalidManifest');
      }
      return;
    }
    const manual = this.manualDownloads.get(key);
    this.manualDownloads.delete(key);
    if (done.err && manual) this.tryNextManualMirror(manual, req, key, done.err);
  }

  /** handle_auto_update_success: main learns the new manifest's keccak256, to decide on installing. */
  private async autoUpdateSuccess(pkg: PackageIdJson, hash: string): Promise<void> {
    const manifest = (await this.vfs(`${DOWNLOADS_DIR}/${packageIdString(pkg)}/${hash}.json`, 'Read')).blob ?? new Uint8Array();
    this.tell(MAIN_PROCESS, { Success: { package_id: pkg, version_hash: hash, manifest_hash: keccak256(manifest) } });
    this.kernel.print(0, `auto_update: successfully downloaded package ${packageIdString(pkg)} version ${hash}`);
  }

  /** chain:app-store:sys saw a new version of a package that auto-updates. */
  private async autoUpdate(arg: unknown): Promise<void> {
    const a = (arg ?? {}) as { package_id?: unknown; metadata?: { properties?: Record<string, unknown> } };
    const pkgJson = parsePackageIdJson(a.package_id);
    const pkg = packageIdString(pkgJson);
    const p = a.metadata?.properties ?? {};
    const hashes = Array.isArray(p.code_hashes) ? (p.code_hashes as Array<[string, string]>) : [];
    const hash = hashes.find(([v]) => v === p.current_version)?.[1];
    if (!hash || !HASH.test(hash)) {
      this.kernel.print(1, `auto_update: error for package_id: ${pkg}, current_version: ${p.current_version}, no matching hash found`);
      return;
    }
    if (await this.zipExists(pkg, hash)) {
      this.kernel.print(1, `auto_update: skipping download for ${pkg} with version ${hash} because it already exists`);
      return;
    }
    const mirrors = mirrorList(p as { publisher?: string; mirrors?: string[] });
    if (mirrors.length === 0) {
      this.kernel.print(1, `auto_update: error for package_id: ${pkg}, current_version: ${p.current_version}, no mirrors found`);
      return;
    }
    this.kernel.print(0, `auto_update: kicking off download for ${pkg} with version ${hash} from mirror ${mirrors[0]}`);
    this.autoUpdates.set(keyOf(pkgJson, hash), { mirrors_left: mirrors.slice(1), mirrors_failed: [], active_mirror: mirrors[0] });
    this.again({ package_id: pkgJson, download_from: mirrors[0], desired_version_hash: hash });
  }

  /** download_from is a URL: GET it with http-client, check its sha256, keep it. */
  private async httpDownload(req: LocalDownloadRequest): Promise<void> {
    const key = keyOf(req.package_id, req.desired_version_hash);
    const auto = this.autoUpdates.get(key);
    let err: DownloadError | null = null;
    try {
      const r = await this.kernel.request(
        this.id,
        { node: this.kernel.our, process: systemProcess('http-client') },
        JSON.stringify({ Http: { method: 'GET', version: null, url: req.download_from, headers: {} } }),
        { timeoutSecs: REMOTE_TIMEOUT_SECS },
      );
      const body = parseJsonBytes(r.response.body) as { Ok?: { Http?: { status?: number } } };
      const zip = r.blob?.bytes;
      if (body?.Ok?.Http?.status !== 200) err = 'HttpClientError';
      else if (!zip) err = 'BlobNotFound';
      else {
        const actual = sha256Hex(zip);
        if (actual !== req.desired_version_hash) err = { HashMismatch: { desired: req.desired_version_hash, actual } };
        else await storeDownload(this.kernel, this.id, packageIdString(req.package_id), actual, zip);
      }
    } catch (e) {
      err = e instanceof VfsCallError ? 'VfsError' : 'HttpClientError';
    }
    if (err === null) {
      this.tell(MAIN_PROCESS, { package_id: req.package_id, version_hash: req.desired_version_hash, err: null });
      if (auto) {
        this.autoUpdates.delete(key);
        await this.autoUpdateSuccess(req.package_id, req.desired_version_hash).catch(() => this.tryNextMirror(auto, req, key, 'InvalidManifest'));
      }
      return;
    }
    if (auto) {
      this.autoUpdates.delete(key);
      return this.tryNextMirror(auto, req, key, err);
    }
    this.completeToMain({ package_id: req.package_id, version_hash: req.desired_version_hash, err });
  }

  // ---- the local store -------------------------------------------------------------------------

  private async addDownload(km: KernelMessage, arg: unknown): Promise<void> {
    const a = (arg ?? {}) as { package_id?: unknown; version_hash?: unknown; mirror?: unknown };
    const pkgJson = parsePackageIdJson(a.package_id);
    const pkg = packageIdString(pkgJson);
    const zip = km.lazyLoadBlob?.bytes;
    if (!zip) return answer(this.kernel, this.id, km, { Err: 'BlobNotFound' });
    const hash = sha256Hex(zip);
    if (typeof a.version_hash === 'string' && a.version_hash !== '' && a.version_hash !== hash)
      return answer(this.kernel, this.id, km, { Err: { HashMismatch: { desired: a.version_hash, actual: hash } } });
    if (!zipManifest(zip)) return answer(this.kernel, this.id, km, { Err: 'InvalidManifest' });
    await storeDownload(this.kernel, this.id, pkg, hash, zip, false);
    if (a.mirror === true) {
      this.mirroring.add(pkg);
      await this.saveMirroring();
    }
    answer(this.kernel, this.id, km, 'Success');
  }

  private async getFiles(km: KernelMessage, arg: unknown): Promise<void> {
    const dir = arg === null || arg === undefined ? DOWNLOADS_DIR : `${DOWNLOADS_DIR}/${packageIdString(parsePackageIdJson(arg))}`;
    const r = await this.vfs(dir, 'ReadDir');
    const entries: unknown[] = [];
    for (const e of (r.body as { ReadDir: Array<{ path: string; file_type: string }> }).ReadDir) {
      const name = e.path.split('/').pop() ?? '';
      if (e.file_type === 'File') {
        if (!name.endsWith('.zip') || name === 'api.zip') continue;
        const meta = await this.vfs(`/${e.path}`, 'Metadata').catch(() => undefined);
        const size = (meta?.body as { Metadata?: { len?: number } } | undefined)?.Metadata?.len ?? 0;
        const manifest = await this.vfs(`/${e.path.replace(/\.zip$/, '.json')}`, 'Read').then(
          (m) => fromUtf8(m.blob ?? new Uint8Array()),
          () => '',
        );
        entries.push({ File: { name, size, manifest } });
      } else if (name !== 'tmp') {
        const mirroring = [...this.mirroring].some((p) => p === name || p.split(':')[0] === name);
        entries.push({ Dir: { name, mirroring } });
      }
    }
    answer(this.kernel, this.id, km, { GetFiles: entries });
  }

  private async removeFile(km: KernelMessage, arg: unknown): Promise<void> {
    const a = (arg ?? {}) as { package_id?: unknown; version_hash?: unknown };
    const pkg = packageIdString(parsePackageIdJson(a.package_id));
    if (typeof a.version_hash === 'string' && HASH.test(a.version_hash)) {
      await this.vfs(`${DOWNLOADS_DIR}/${pkg}/${a.version_hash}.zip`, 'RemoveFile').catch(() => {});
      await this.vfs(`${DOWNLOADS_DIR}/${pkg}/${a.version_hash}.json`, 'RemoveFile').catch(() => {});
    }
    answer(this.kernel, this.id, km, 'Success');
  }
}

/** The publisher first, then the listed mirrors, each once (fetch_mirror_candidates). */
function mirrorList(p: { publisher?: string; mirrors?: string[] } | undefined): string[] {
  const out: string[] = [];
  for (const m of [p?.publisher ?? '', ...(Array.isArray(p?.mirrors) ? p.mirrors : [])]) if (typeof m === 'string' && m !== '' && !out.includes(m)) out.push(m);
  return out;
}

/** worker_address as `node@<u64>:app-store:sys`: a transfer worker on the node that asked. */
function parseWorkerAddress(v: unknown, asker: string) {
  if (typeof v !== 'string') throw new Error('worker_address is not a string');
  const m = /^([^@]+)@(\d+):app-store:sys$/.exec(v);
  if (!m) throw new Error(`worker_address ${JSON.stringify(v)} is not a transfer worker's address (node@<u64>:app-store:sys)`);
  if (m[1] !== asker) throw new Error(`worker_address ${v} is not on ${asker}, the node that asked`);
  return { node: m[1], process: { processName: m[2], packageName: 'app-store', publisherNode: 'sys' } };
}

export function describe(err: DownloadError): string {
  return typeof err === 'string' ? err : `HashMismatch (desired ${err.HashMismatch.desired}, actual ${err.HashMismatch.actual})`;
}
