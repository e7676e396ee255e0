// main:app-store:sys — the part of the App Store that kit and the App Store page talk to (interop
// §2.4-2.5, book: App Store), as Hyperdrive's (hyperdrive/packages/app-store/app-store/src/lib.rs,
// utils.rs): NewPackage hands the zip to downloads:app-store:sys (AddDownload), Install checks it
// completely and then installs and starts its processes, Uninstall removes them, Apis and GetApi
// serve package APIs; the HTTP API the App Store page uses is in http-api.ts. It hears how
// downloads end (DownloadComplete, AutoDownloadComplete) and auto-installs an update whose
// manifest is the installed one's. It speaks to the kernel only with KernelCommand messages and to
// the disk only through vfs:distro:sys, and keeps what is installed in the VFS so a --persist node
// remembers it. Only requests from our own node are served, one at a time.

import { keccak256 } from 'viem';
import { sha256Hex, type ZipLimits } from '../../../core/zip.js';
import { type KernelApi, type NativeProcess, SendErrorException } from '../../kernel/api.js';
import type { CapabilityJson } from '../../kernel/json.js';
import { isNotFoundError } from '../../modules/vfs/index.js';
import type { Logger } from '../../../core/log.js';
import {
  type Address,
  fromUtf8,
  type KernelMessage,
  type LazyLoadBlob,
  type ProcessId,
  parseJsonBytes,
  systemProcess,
} from '../../../core/types.js';
import {
  checkNotSystemPackage,
  InstallCheckError,
  type PackageIdJson,
  packageIdString,
  parsePackageIdJson,
  planInstall,
  readManifest,
} from './plan.js';
import { CHAIN_PROCESS } from './chain.js';
import { type DownloadCompleteRequest, type DownloadError, DOWNLOADS_DIR, DOWNLOADS_PROCESS, describe as describeDownloadError } from './downloads.js';
import { bindStoreHttp, type StoreHttp, serveStoreHttp } from './http-api.js';
import { StorePage } from './page.js';

export { InstallCheckError, type InstallPlan, type PackageIdJson, planInstall } from './plan.js';

export const APP_STORE_PROCESS: ProcessId = { processName: 'main', packageName: 'app-store', publisherNode: 'sys' };
const HOMEPAGE: ProcessId = { processName: 'homepage', packageName: 'homepage', publisherNode: 'sys' };

const STATE_DRIVE = '/app-store:sys/state';
const STATE_FILE = `${STATE_DRIVE}/installed.json`;
const UPDATES_FILE = `${STATE_DRIVE}/updates.json`;
/** Starting a process may transpile its component first: give it time. */
const RUN_TIMEOUT_SECS = 300;
const STEP_TIMEOUT_SECS = 60;

export interface InstalledPackage {
  package_id: PackageIdJson;
  version_hash: string;
  /** Process IDs started from its manifest. */
  processes: string[];
  has_api: boolean;
  wit_version: number | null;
  /** keccak256 of its manifest.json (0x-hex): an update with the same one is installed without asking. */
  manifest_hash?: string;
}

interface StoreState {
  installed: Record<string, InstalledPackage>;
}

/** Hyperdrive's UpdateInfo: `"pkg:pub" -> version hash -> {errors: [[mirror, error]], pending_manifest_hash}`. */
export type Updates = Record<string, Record<string, { errors: Array<[string, DownloadError]>; pending_manifest_hash: string | null }>>;

/** One step of an install or uninstall went wrong; the message says which and why. */
export class AppStoreStepError extends Error {
  override name = 'AppStoreStepError';
}

export interface AppStoreOptions {
  /** How far a package zip may expand (default DEFAULT_ZIP_LIMITS). */
  zipLimits?: ZipLimits;
}

export function createAppStore(opts: AppStoreOptions = {}): NativeProcess {
  return new AppStore(opts.zipLimits);
}

/**
 * Why a request failed, as the Response's blob (text/plain): the body keeps Hyperdrive's exact
 * shape (`{"InstallResponse": "Failure"}`, which process_lib users and the real kit parse), and a
 * caller that wants the reason (our kit) reads the blob; the real kit ignores it.
 */
function reasonBlob(why: string): LazyLoadBlob {
  return { mime: 'text/plain', bytes: new TextEncoder().encode(why) };
}

function describeErr(err: unknown): string {
  if (err && typeof err === 'object') {
    const [variant, fields] = Object.entries(err as Record<string, unknown>)[0] ?? ['?', undefined];
    const f = fields as Record<string, unknown> | undefined;
    const detail = f && typeof f === 'object' ? (f.error ?? f.path ?? JSON.stringify(f)) : JSON.stringify(fields);
    return `${variant}: ${detail}`;
  }
  return JSON.stringify(err);
}

class AppStore implements NativeProcess {
  readonly id = APP_STORE_PROCESS;
  private kernel!: KernelApi;
  private log!: Logger;
  private state: StoreState = { installed: {} };
  private updates: Updates = {};
  private ready: Promise<void> = Promise.resolve();
  private page!: StorePage;
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly zipLimits?: ZipLimits) {}

  start(kernel: KernelApi): void {
    this.kernel = kernel;
    this.log = kernel.log.child('app-store');
    // The App Store installs into other packages' drives: like the real one (whose manifest asks
    // for it), it holds vfs's root capability. GrantCapabilities is an unconditional kernel add.
    this.tellKernel({
      GrantCapabilities: {
        target: 'main:app-store:sys',
        capabilities: [{ issuer: `${kernel.our}@vfs:distro:sys`, params: JSON.stringify({ root: true }) }],
      },
    });
    bindStoreHttp(kernel, this.id);
    this.page = new StorePage(kernel, this.id);
    void this.page.start().catch((e) => this.log.error(`could not serve the App Store page: ${(e as Error).message}`));
    this.ready = this.loadState().catch((e) => {
      this.log.error(`could not read the installed-package list: ${(e as Error).message}; starting empty`);
    });
  }

  handle(km: KernelMessage): Promise<void> {
    if (km.message.tag !== 'request' || km.source.node !== this.kernel.our) return Promise.resolve();
    const next = this.queue.then(() => this.ready).then(() => this.serve(km));
    this.queue = next.catch((e) => this.log.error(`request failed: ${(e as Error).message}`));
    return this.queue;
  }

  // ---- messaging helpers ------------------------------------------------------------------

  private addr(name: string): Address {
    return { node: this.kernel.our, process: systemProcess(name) };
  }

  private local(process: ProcessId): Address {
    return { node: this.kernel.our, process };
  }

  private answer(km: KernelMessage, body: unknown, blob?: LazyLoadBlob): void {
    if (km.message.tag !== 'request') return;
    if (km.message.val.expectsResponse === undefined && !km.rsvp) return;
    this.kernel.respond(this.id, km, JSON.stringify(body), blob);
  }

  private tellKernel(cmd: unknown): void {
    this.kernel.tell(this.id, this.addr('kernel'), JSON.stringify(cmd));
  }

  private async askKernel(cmd: Record<string, unknown>, expected: string, blob?: Uint8Array, timeoutSecs = STEP_TIMEOUT_SECS) {
    const what = Object.keys(cmd)[0];
    let body: unknown;
    let reason: string | undefined;
    try {
      const r = await this.kernel.request(this.id, this.addr('kernel'), JSON.stringify(cmd), {
        blob: blob && { bytes: blob },
        timeoutSecs,
      });
      body = parseJsonBytes(r.response.body);
      if (r.blob?.mime === 'text/plain') reason = fromUtf8(r.blob.bytes);
    } catch (e) {
      const why = e instanceof SendErrorException ? (e.reason ?? e.code) : (e as Error).message;
      throw new AppStoreStepError(`kernel ${what} failed: ${why}`);
    }
    if (body !== expected)
      throw new AppStoreStepError(`kernel answered ${what} with ${JSON.stringify(body)}, not "${expected}"${reason ? `: ${reason}` : ''}`);
  }

  /** Ask another App Store process (chain, downloads, homepage) and parse its JSON answer. */
  private async askStore(process: ProcessId, body: unknown, timeoutSecs = 5, node = this.kernel.our): Promise<{ json: unknown; blob?: LazyLoadBlob }> {
    try {
      const r = await this.kernel.request(this.id, { node, process }, JSON.stringify(body), { timeoutSecs });
      return { json: parseJsonBytes(r.response.body), blob: r.blob };
    } catch (e) {
      const why = e instanceof SendErrorException ? (e.reason ?? e.code) : (e as Error).message;
      throw new AppStoreStepError(`${process.processName}:${process.packageName}:${process.publisherNode} did not answer: ${why}`);
    }
  }

  /** One VFS request; `{"Err": ...}` answers become AppStoreStepError. */
  private async vfs(path: string, action: unknown, blob?: Uint8Array): Promise<{ body: unknown; blob?: Uint8Array }> {
    const name = typeof action === 'string' ? action : Object.keys(action as object)[0];
    let body: unknown;
    let out: Uint8Array | undefined;
    try {
      const r = await this.kernel.request(this.id, this.addr('vfs'), JSON.stringify({ path, action }), {
        blob: blob && { bytes: blob },
        timeoutSecs: STEP_TIMEOUT_SECS,
      });
      body = parseJsonBytes(r.response.body);
      out = r.blob?.bytes;
    } catch (e) {
      const why = e instanceof SendErrorException ? (e.reason ?? e.code) : (e as Error).message;
      throw new AppStoreStepError(`vfs ${name} ${path} failed: ${why}`);
    }
    if (body && typeof body === 'object' && 'Err' in body)
      throw Object.assign(new AppStoreStepError(`vfs ${name} ${path}: ${describeErr((body as { Err: unknown }).Err)}`), {
        vfsError: (body as { Err: unknown }).Err,
      });
    return { body, blob: out };
  }

  private static isNotFound(e: unknown): boolean {
    return isNotFoundError((e as { vfsError?: unknown }).vfsError);
  }

  // ---- state --------------------------------------------------------------------------------

  private async loadState(): Promise<void> {
    await this.vfs(STATE_DRIVE, 'CreateDrive');
    const read = async (path: string): Promise<unknown> => {
      try {
        return JSON.parse(fromUtf8((await this.vfs(path, 'Read')).blob ?? new Uint8Array()));
      } catch (e) {
        if (!AppStore.isNotFound(e)) throw e;
        return undefined;
      }
    };
    const installed = (await read(STATE_FILE)) as StoreState | undefined;
    if (installed && typeof installed.installed === 'object') this.state = installed;
    const updates = (await read(UPDATES_FILE)) as Updates | undefined;
    if (updates && typeof updates === 'object') this.updates = updates;
  }

  private async saveState(): Promise<void> {
    await this.vfs(STATE_FILE, 'Write', new TextEncoder().encode(JSON.stringify(this.state, null, 1)));
  }

  private async saveUpdates(): Promise<void> {
    await this.vfs(UPDATES_FILE, 'Write', new TextEncoder().encode(JSON.stringify(this.updates)));
  }

  // ---- requests -----------------------------------------------------------------------------

  private async serve(km: KernelMessage): Promise<void> {
    if (km.message.tag !== 'request') return;
    // Hyperdrive's app store drops a request it cannot parse, and the caller waits for its
    // timeout; ours answers {"Err": why} at once (when an answer is expected).
    const unknown = (why: string) => {
      this.kernel.print(1, `app-store: ${why}`);
      this.answer(km, { Err: `${why}; main:app-store:sys takes "Apis" or {"NewPackage" | "Install" | "Uninstall" | "GetApi": ...}` });
    };
    let req: unknown;
    try {
      req = parseJsonBytes(km.message.val.body);
    } catch {
      return unknown('the request is not JSON');
    }
    if (req === 'Apis') return this.apis(km);
    if (this.page.track(km)) return; // the page's WebSocket opening or closing
    const r = (req && typeof req === 'object' ? req : {}) as Record<string, unknown>;
    if ('NewPackage' in r) return this.newPackage(km, r.NewPackage);
    if ('Install' in r) return this.install(km, r.Install);
    if ('Uninstall' in r) return this.uninstall(km, r.Uninstall);
    if ('GetApi' in r) return this.getApi(km, r.GetApi);
    if ('Http' in r) {
      if (km.source.process.processName !== 'http-server' || km.source.process.packageName !== 'distro') return;
      const res = await serveStoreHttp(this.storeHttp(), r.Http, km.lazyLoadBlob?.bytes);
      this.kernel.respond(this.id, km, JSON.stringify({ status: res.status, headers: {} }), { mime: 'application/json', bytes: res.body });
      return;
    }
    // From downloads:app-store:sys (the same untagged shapes Hyperdrive's main accepts).
    if ('package_id' in r && 'version_hash' in r && 'err' in r) {
      this.page.push('complete', { package_id: r.package_id, version_hash: r.version_hash, error: r.err });
      return this.downloadComplete(r as unknown as DownloadCompleteRequest);
    }
    if ('package_id' in r && 'downloaded' in r) {
      // Progress: for the App Store page's WebSocket.
      this.page.push('progress', { package_id: r.package_id, version_hash: r.version_hash, downloaded: r.downloaded, total: r.total });
      return;
    }
    if ('Success' in r || 'Err' in r) return this.autoDownloadComplete(r);
    unknown(`unknown request ${fromUtf8(km.message.val.body).slice(0, 200)}`);
  }

  /** What the HTTP API needs from main, and nothing more. */
  private storeHttp(): StoreHttp {
    return {
      our: this.kernel.our,
      ask: (process, body, timeoutSecs, node) => this.askStore(process, body, timeoutSecs, node),
      tell: (process, body) => this.kernel.tell(this.id, this.local(process), JSON.stringify(body)),
      installed: () => this.state.installed,
      install: (pkg, hash) => this.installPackage(pkg, hash, undefined),
      uninstall: (pkg) => this.uninstallPackage(pkg),
      updates: () => this.updates,
      clearUpdates: async (pkg) => {
        delete this.updates[pkg];
        await this.saveUpdates();
      },
    };
  }

  /** Say why on the terminal and in the log; return the reason for the Response's blob. */
  private fail(what: string, pkg: string, e: unknown): LazyLoadBlob {
    const why = e instanceof Error ? e.message : String(e);
    this.kernel.print(0, `app-store: ${what} ${pkg} failed: ${why}`);
    this.log.error(`${what} ${pkg} failed: ${why}`);
    return reasonBlob(why);
  }

  /** As Hyperdrive's new_package: the zip goes to downloads:app-store:sys (AddDownload), mirrored if asked. */
  private async newPackage(km: KernelMessage, arg: unknown): Promise<void> {
    const a = (arg ?? {}) as { package_id?: unknown; mirror?: unknown };
    let pkg = '?';
    try {
      const pkgJson = parsePackageIdJson(a.package_id);
      pkg = packageIdString(pkgJson);
      checkNotSystemPackage(pkgJson);
      const zip = km.lazyLoadBlob?.bytes;
      if (!zip) {
        this.answer(km, { NewPackageResponse: 'NoBlob' });
        return;
      }
      // Read the manifest now, so a zip that is no package is refused here, saying why.
      await readManifest(zip, this.zipLimits);
      const hash = sha256Hex(zip);
      const r = await this.kernel.request(
        this.id,
        this.local(DOWNLOADS_PROCESS),
        JSON.stringify({ AddDownload: { package_id: pkgJson, version_hash: hash, mirror: a.mirror === true } }),
        { blob: { bytes: zip }, timeoutSecs: STEP_TIMEOUT_SECS },
      );
      const body = parseJsonBytes(r.response.body);
      if (body !== 'Success') throw new AppStoreStepError(`downloads:app-store:sys answered ${JSON.stringify(body)}`);
      this.log.info(`stored ${pkg} version ${hash.slice(0, 12)}`);
      this.answer(km, { NewPackageResponse: 'Success' });
    } catch (e) {
      this.answer(km, { NewPackageResponse: 'InstallFailed' }, this.fail('adding package', pkg, e));
    }
  }

  private async install(km: KernelMessage, arg: unknown): Promise<void> {
    const a = (arg ?? {}) as { package_id?: unknown; version_hash?: unknown; metadata?: unknown };
    let pkg = '?';
    try {
      const pkgJson = parsePackageIdJson(a.package_id);
      pkg = packageIdString(pkgJson);
      await this.installPackage(pkgJson, a.version_hash, a.metadata);
      this.answer(km, { InstallResponse: 'Success' });
    } catch (e) {
      this.answer(km, { InstallResponse: 'Failure' }, this.fail('installing', pkg, e));
    }
  }

  /** utils::install: the downloaded zip of `hash` checked, unpacked, its processes started. */
  private async installPackage(pkgJson: PackageIdJson, hash: unknown, givenMetadata: unknown): Promise<void> {
    const pkg = packageIdString(pkgJson);
    const started: string[] = [];
    let touched = false;
    try {
      checkNotSystemPackage(pkgJson);
      if (typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash))
        throw new InstallCheckError(`version_hash must be the sha256 of the zip as 64 lowercase hex digits, got ${JSON.stringify(hash)}`);
      // No metadata given: the published one, from chain:app-store:sys (as the real store does).
      const metadata = givenMetadata ?? (await this.onchainMetadata(pkgJson));
      const witVersion = (metadata as { properties?: { wit_version?: unknown } } | undefined)?.properties?.wit_version;

      // 1. The zip NewPackage (or a download) stored.
      let zip: Uint8Array;
      try {
        zip = (await this.vfs(`${DOWNLOADS_DIR}/${pkg}/${hash}.zip`, 'Read')).blob ?? new Uint8Array();
      } catch (e) {
        if (AppStore.isNotFound(e))
          throw new InstallCheckError(`no zip of ${pkg} with version hash ${hash} was added; send NewPackage with the zip first`);
        throw e;
      }
      if (sha256Hex(zip) !== hash) throw new InstallCheckError(`the stored zip of ${pkg} does not hash to ${hash}`);

      // 2. Check everything before touching anything; entries Hyperdrive would skip are skipped, with its line.
      const plan = await planInstall(this.kernel.our, pkgJson, zip, this.zipLimits);
      for (const line of plan.skipped) this.kernel.print(0, line);

      // 3. Files: a fresh pkg drive holding the zip's contents and the zip itself.
      const drive = `/${pkg}/pkg`;
      touched = true;
      await this.vfs(drive, 'CreateDrive');
      await this.vfs(drive, 'RemoveDirAll');
      await this.vfs(drive, 'AddZip', zip);
      await this.vfs(`${drive}/${pkg}.zip`, 'Write', zip);
      if (plan.apiZip) await this.vfs(`${drive}/api`, 'AddZip', plan.apiZip);
      // Every package also gets a tmp/ drive (book: VFS API, Drives); its contents survive a reinstall.
      await this.vfs(`/${pkg}/tmp`, 'CreateDrive');

      // 4. Processes: (re)initialize each with its capabilities, then the grants, then run them.
      for (const p of plan.processes) {
        this.tellKernel({ KillProcess: p.id });
        await this.askKernel(
          {
            InitializeProcess: {
              id: p.id,
              wasm_bytes_handle: p.wasmHandle,
              wit_version: typeof witVersion === 'number' ? witVersion : null,
              on_exit: p.onExit,
              initial_capabilities: [],
              public: p.public,
            },
          },
          'InitializedProcess',
          p.wasm,
        );
        started.push(p.id);
        this.grant(p.id, p.capabilities);
        // As Hyperdrive, once per process: chain answers NoPackage for one that is not published.
        this.kernel.tell(this.id, this.local(CHAIN_PROCESS), JSON.stringify({ StartAutoUpdate: pkgJson }));
      }
      for (const p of plan.processes) for (const g of p.grants) this.grant(g.target, [g.capability]);
      for (const p of plan.processes) await this.askKernel({ RunProcess: p.id }, 'StartedProcess', undefined, RUN_TIMEOUT_SECS);

      this.state.installed[pkg] = {
        package_id: pkgJson,
        version_hash: hash,
        processes: plan.processes.map((p) => p.id),
        has_api: !!plan.apiZip,
        wit_version: typeof witVersion === 'number' ? witVersion : null,
        manifest_hash: keccak256(plan.manifest),
      };
      await this.saveState();
      this.kernel.print(0, `successfully installed ${pkg}`);
      this.log.info(`installed ${pkg} version ${hash.slice(0, 12)}: ${plan.processes.map((p) => p.id).join(', ') || 'no processes'}`);
    } catch (e) {
      // Leave nothing half-started behind; a package whose files were replaced is no longer installed.
      for (const id of started) this.tellKernel({ KillProcess: id });
      const previous = this.state.installed[pkg];
      if (touched && previous) {
        for (const id of previous.processes) if (!started.includes(id)) this.tellKernel({ KillProcess: id });
        delete this.state.installed[pkg];
        await this.saveState().catch(() => {});
      }
      throw e;
    }
  }

  private async onchainMetadata(pkg: PackageIdJson): Promise<unknown> {
    try {
      const r = await this.kernel.request(this.id, this.local(CHAIN_PROCESS), JSON.stringify({ GetApp: pkg }), { timeoutSecs: 30 });
      return (parseJsonBytes(r.response.body) as { GetApp?: { metadata?: unknown } | null })?.GetApp?.metadata ?? undefined;
    } catch {
      return undefined;
    }
  }

  private grant(target: string, capabilities: CapabilityJson[]): void {
    if (capabilities.length > 0) this.tellKernel({ GrantCapabilities: { target, capabilities } });
  }

  private async uninstall(km: KernelMessage, arg: unknown): Promise<void> {
    let pkg = '?';
    try {
      const pkgJson = parsePackageIdJson(arg);
      pkg = packageIdString(pkgJson);
      await this.uninstallPackage(pkgJson);
      this.answer(km, { UninstallResponse: 'Success' });
    } catch (e) {
      this.answer(km, { UninstallResponse: 'Failure' }, this.fail('uninstalling', pkg, e));
    }
  }

  /** utils::uninstall: processes killed (and taken off the homepage), drive removed, auto-update stopped. */
  private async uninstallPackage(pkgJson: PackageIdJson): Promise<void> {
    const pkg = packageIdString(pkgJson);
    const rec = this.state.installed[pkg];
    if (!rec) throw new AppStoreStepError(`${pkg} is not installed`);
    const drive = `/${pkg}/pkg`;
    const ids = new Set(rec.processes);
    // The manifest on disk may name processes a newer install added.
    try {
      const m = await this.vfs(`${drive}/manifest.json`, 'Read');
      const entries = JSON.parse(fromUtf8(m.blob ?? new Uint8Array())) as Array<{ process_name?: unknown }>;
      for (const e of entries) if (typeof e?.process_name === 'string') ids.add(`${e.process_name}:${pkg}`);
    } catch {
      // no readable manifest: the recorded list is all there is
    }
    const homepageCap = { issuer: { node: this.kernel.our, process: HOMEPAGE }, params: '"RemoveOther"' };
    for (const id of ids) {
      this.tellKernel({ KillProcess: id });
      // Hyperdrive attaches homepage's RemoveOther capability, which its app store holds.
      this.kernel.tell(this.id, this.local(HOMEPAGE), JSON.stringify({ RemoveOther: id }), { capabilities: [homepageCap] });
    }
    try {
      await this.vfs(drive, 'RemoveDirAll');
    } catch (e) {
      if (!AppStore.isNotFound(e)) throw e;
    }
    delete this.state.installed[pkg];
    await this.saveState();
    this.kernel.tell(this.id, this.local(CHAIN_PROCESS), JSON.stringify({ StopAutoUpdate: pkgJson }));
    this.kernel.print(0, `successfully uninstalled package ${pkg}`);
    this.log.info(`uninstalled ${pkg}`);
  }

  private apis(km: KernelMessage): void {
    const apis = Object.keys(this.state.installed)
      .sort()
      .map((k) => this.state.installed[k])
      .filter((p) => p.has_api)
      .map((p) => p.package_id);
    this.answer(km, { ApisResponse: { apis } });
  }

  /** The API downloads:app-store:sys saved when it downloaded `pkg` from another node (not sideloaded ones). */
  private async downloadedApi(pkg: string): Promise<Uint8Array | undefined> {
    try {
      return (await this.vfs(`${DOWNLOADS_DIR}/${pkg}/api.zip`, 'Read')).blob;
    } catch {
      return undefined;
    }
  }

  private async getApi(km: KernelMessage, arg: unknown): Promise<void> {
    let pkg = '?';
    try {
      pkg = packageIdString(parsePackageIdJson(arg));
      if (!this.state.installed[pkg]?.has_api) {
        // Downloaded (e.g. by `kit view-api -d`) but not installed: the API inside its zip.
        const api = await this.downloadedApi(pkg);
        if (!api) throw new AppStoreStepError(`${pkg} is not installed with an API`);
        this.answer(km, { GetApiResponse: 'Success' }, { mime: 'application/json', bytes: api });
        return;
      }
      const r = await this.vfs(`/${pkg}/pkg/api.zip`, 'Read');
      this.answer(km, { GetApiResponse: 'Success' }, { mime: 'application/json', bytes: r.blob ?? new Uint8Array() });
    } catch (e) {
      this.log.info(`GetApi ${pkg}: ${(e as Error).message}`);
      this.answer(km, { GetApiResponse: 'Failure' });
    }
  }

  // ---- downloads finishing ------------------------------------------------------------------

  /**
   * A download ended. Hyperdrive pushes this to the App Store page's WebSocket; here a failure is
   * also kept with the updates (mirror and error), where kit and the page can read why.
   */
  private async downloadComplete(done: DownloadCompleteRequest): Promise<void> {
    let pkg: string;
    try {
      pkg = packageIdString(parsePackageIdJson(done.package_id));
    } catch {
      return;
    }
    const hash = String(done.version_hash);
    if (done.err) {
      this.log.info(`download of ${pkg} version ${hash.slice(0, 12)} failed: ${describeDownloadError(done.err)}`);
      const forPkg = this.updates[pkg] ?? {};
      const previous = forPkg[hash]?.errors ?? [];
      forPkg[hash] = { errors: [...previous, ['', done.err]], pending_manifest_hash: null };
      this.updates[pkg] = forPkg;
      await this.saveUpdates();
      return;
    }
    const entry = this.updates[pkg]?.[hash];
    if (entry && entry.pending_manifest_hash === null) {
      delete this.updates[pkg][hash];
      if (Object.keys(this.updates[pkg]).length === 0) delete this.updates[pkg];
      await this.saveUpdates();
    }
  }

  /** An auto-update was downloaded (or every mirror failed): install it if its manifest is the installed one's. */
  private async autoDownloadComplete(r: Record<string, unknown>): Promise<void> {
    if ('Err' in r) {
      const e = r.Err as { package_id?: unknown; version_hash?: unknown; tries?: Array<[string, DownloadError]> };
      let pkg: string;
      try {
        pkg = packageIdString(parsePackageIdJson(e.package_id));
      } catch {
        return;
      }
      this.kernel.print(0, `error auto-downloading package: ${pkg}: ${JSON.stringify(e.tries ?? [])}`);
      this.updates[pkg] = { ...(this.updates[pkg] ?? {}), [String(e.version_hash)]: { errors: e.tries ?? [], pending_manifest_hash: null } };
      await this.saveUpdates();
      return;
    }
    const s = r.Success as { package_id?: unknown; version_hash?: unknown; manifest_hash?: unknown };
    let pkgJson: PackageIdJson;
    try {
      pkgJson = parsePackageIdJson(s.package_id);
    } catch {
      return;
    }
    const pkg = packageIdString(pkgJson);
    const hash = String(s.version_hash);
    const manifestHash = String(s.manifest_hash);
    if (this.state.installed[pkg]?.manifest_hash === manifestHash) {
      try {
        await this.installPackage(pkgJson, hash, undefined);
        this.kernel.print(0, `auto-installed update for package: ${pkg}`);
        return;
      } catch (e) {
        this.kernel.print(0, `error auto-installing package: ${(e as Error).message}`);
      }
    }
    // A different manifest (its capabilities may differ): kept as pending, for the user to approve.
    this.updates[pkg] = { ...(this.updates[pkg] ?? {}), [hash]: { errors: [], pending_manifest_hash: manifestHash } };
    await this.saveUpdates();
  }
}
