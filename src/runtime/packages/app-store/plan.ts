// Everything the App Store checks in a package zip before it touches the node: every entry stays
// inside the drive, manifest.json parses and is well formed, every wasm it names is in the zip,
// every capability names a valid process. The result is the complete install plan (interop §2.5).

import { checkEntryPath, checkZip, type UnzipOptions, type ZipEntry, type ZipLimits, unzipAsync, ZipFormatError, ZipLimitError, ZipPathError } from '../../../core/zip.js';
import type { CapabilityJson, OnExitJson } from '../../kernel/json.js';
import { isSafeName, parseProcessId, safeNameRule } from '../../../core/types.js';

/** `{"package_name": ..., "publisher_node": ...}`, as PackageId is written in JSON (interop §0.2). */
export interface PackageIdJson {
  package_name: string;
  publisher_node: string;
}

/** The package cannot be installed; the message says what is wrong with it. */
export class InstallCheckError extends Error {
  override name = 'InstallCheckError';
}

export interface PlannedProcess {
  /** `process:package:publisher` */
  id: string;
  /** `/<pkg>:<pub>/pkg/<file>.wasm` */
  wasmHandle: string;
  wasm: Uint8Array;
  onExit: OnExitJson;
  public: boolean;
  /** Granted to this process: requested caps, "network" if asked, vfs read+write on its pkg drive. */
  capabilities: CapabilityJson[];
  /** Caps this process hands out: `[target process, capability issued by this process]`. */
  grants: Array<{ target: string; capability: CapabilityJson }>;
}

export interface InstallPlan {
  /** `pkg:pub` */
  packageId: string;
  manifest: Uint8Array;
  /** pkg/api.zip, if the package has one. */
  apiZip?: Uint8Array;
  processes: PlannedProcess[];
  /** Capability entries left out, as the lines Hyperdrive prints for them. */
  skipped: string[];
}

export function parsePackageIdJson(v: unknown): PackageIdJson {
  const o = v as Partial<PackageIdJson> | null;
  if (!o || typeof o !== 'object' || typeof o.package_name !== 'string' || typeof o.publisher_node !== 'string')
    throw new InstallCheckError(`expected a package ID {"package_name": ..., "publisher_node": ...}, got ${JSON.stringify(v)}`);
  if (!isSafeName(o.package_name))
    throw new InstallCheckError(`package name '${o.package_name}' may only contain ${safeNameRule()}`);
  if (!isSafeName(o.publisher_node, true))
    throw new InstallCheckError(`publisher '${o.publisher_node}' may only contain ${safeNameRule(true)}`);
  return { package_name: o.package_name, publisher_node: o.publisher_node };
}

export function packageIdString(p: PackageIdJson): string {
  return `${p.package_name}:${p.publisher_node}`;
}

/** The publisher of the node's own packages (distro:sys, app-store:sys, tester:sys...). */
const SYSTEM_PUBLISHER = 'sys';

/**
 * Refuse a package that claims the system publisher: runtime modules and system packages are
 * trusted by name (vfs, kv and sqlite treat `distro:sys` as themselves, `app-store:sys` owns the
 * store's files), so a package called that would get their rights. Hyperdrive does not check
 * this; we do.
 */
export function checkNotSystemPackage(p: PackageIdJson): void {
  if (p.publisher_node === SYSTEM_PUBLISHER)
    throw new InstallCheckError(
      `${packageIdString(p)} uses the publisher "${SYSTEM_PUBLISHER}", which is reserved for the node's own system packages (distro:sys, app-store:sys, tester:sys...) and would get their rights; publish it under your own node name instead (e.g. ${p.package_name}:yourname.os, the "publisher" in metadata.json)`,
    );
}

/** Unzip a package (or its api.zip) within `limits`, turning zip problems into InstallCheckErrors that say what to do. */
async function unzipPackage(zip: Uint8Array, limits: ZipLimits | undefined, what: string, only?: UnzipOptions['only']): Promise<ZipEntry[]> {
  try {
    // Reading one entry still refuses an archive the install would refuse (NewPackage's door).
    if (only) checkZip(zip, limits);
    return await unzipAsync(zip, { ...limits, only });
  } catch (e) {
    if (e instanceof ZipLimitError)
      throw new InstallCheckError(
        `${what}: ${e.message}; if the package really is this big, boot the node with higher limits (kit boot-fake-node --max-zip-bytes / --max-zip-ratio)`,
      );
    if (e instanceof ZipPathError) throw new InstallCheckError(`${what}: ${e.message} (kit build never writes such an entry: something else made or changed this zip)`);
    if (e instanceof ZipFormatError) throw new InstallCheckError(`${what}: ${e.message}`);
    throw e;
  }
}

function checkOnExit(v: unknown, where: string): OnExitJson {
  if (v === 'None' || v === 'Restart') return v;
  if (v && typeof v === 'object' && Array.isArray((v as { Requests?: unknown }).Requests)) return v as OnExitJson;
  throw new InstallCheckError(`${where}: on_exit must be "None", "Restart" or {"Requests": [...]}, got ${JSON.stringify(v)}`);
}

/**
 * A manifest capability: a process ID string (the messaging cap of that process) or
 * `{"process": "p:k:pub", "params": <any JSON>}` (params re-serialised compactly). Anything else
 * is undefined: Hyperdrive's app store skips such an entry with a printed line and installs the rest
 * (app-store/src/utils.rs parse_capabilities).
 */
export function manifestCapability(our: string, item: unknown): { process: string; cap: CapabilityJson } | undefined {
  let process: string;
  let params: string;
  if (typeof item === 'string') {
    process = item;
    params = '"messaging"';
  } else if (item && typeof item === 'object' && !Array.isArray(item)) {
    const o = item as { process?: unknown; params?: unknown };
    if (typeof o.process !== 'string' || !('params' in o)) return undefined;
    process = o.process;
    params = JSON.stringify(o.params);
  } else {
    return undefined;
  }
  try {
    parseProcessId(process);
  } catch {
    return undefined;
  }
  return { process, cap: { issuer: `${our}@${process}`, params } };
}

function bool(v: unknown, field: string, where: string): boolean {
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw new InstallCheckError(`${where}: ${field} must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

function list(v: unknown, field: string, where: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new InstallCheckError(`${where}: ${field} must be a list, got ${JSON.stringify(v)}`);
  return v;
}

/** Check a package zip completely and plan its install; throws InstallCheckError saying what is wrong. */
export async function planInstall(our: string, pkg: PackageIdJson, zip: Uint8Array, limits?: ZipLimits): Promise<InstallPlan> {
  checkNotSystemPackage(pkg);
  const packageId = packageIdString(pkg);
  const entries = await unzipPackage(zip, limits, 'the package zip');
  const files = new Map(entries.filter((e) => !e.isDir).map((e) => [e.path, e.bytes]));

  const manifest = files.get('manifest.json');
  if (!manifest) throw new InstallCheckError('the package zip has no manifest.json at its root');
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(manifest));
  } catch (e) {
    throw new InstallCheckError(`manifest.json is not JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(raw)) throw new InstallCheckError('manifest.json must be a list of process entries');

  const apiZip = files.get('api.zip');
  if (apiZip) await unzipPackage(apiZip, limits, 'api.zip');

  const drive = `/${packageId}/pkg`;
  const vfs = `${our}@vfs:distro:sys`;
  const seen = new Set<string>();
  const skipped: string[] = [];
  const processes: PlannedProcess[] = raw.map((entry: unknown, i: number) => {
    const where = `manifest.json entry ${i}`;
    if (!entry || typeof entry !== 'object') throw new InstallCheckError(`${where} is not an object`);
    const e = entry as Record<string, unknown>;
    if (typeof e.process_name !== 'string' || !isSafeName(e.process_name))
      throw new InstallCheckError(`${where}: process_name ${JSON.stringify(e.process_name)} must be a name of ${safeNameRule()}`);
    if (seen.has(e.process_name)) throw new InstallCheckError(`${where}: process_name '${e.process_name}' appears twice`);
    seen.add(e.process_name);
    if (typeof e.process_wasm_path !== 'string')
      throw new InstallCheckError(`${where}: process_wasm_path must be a string like "/${e.process_name}.wasm"`);
    const wasmFile = e.process_wasm_path.replace(/^\/+/, '');
    try {
      checkEntryPath(wasmFile);
    } catch (err) {
      throw new InstallCheckError(`${where}: process_wasm_path ${JSON.stringify(e.process_wasm_path)}: ${(err as Error).message}`);
    }
    const wasm = files.get(wasmFile);
    if (!wasm) throw new InstallCheckError(`${where}: ${e.process_wasm_path} is not in the package zip; run \`kit build\` first`);
    const id = `${e.process_name}:${packageId}`;

    const capabilities: CapabilityJson[] = [];
    for (const c of list(e.request_capabilities, 'request_capabilities', where)) {
      const parsed = manifestCapability(our, c);
      if (parsed) capabilities.push(parsed.cap);
      else skipped.push(`manifest requested invalid cap: ${JSON.stringify(c)}`);
    }
    if (bool(e.request_networking, 'request_networking', where))
      capabilities.push({ issuer: `${our}@kernel:distro:sys`, params: '"network"' });
    for (const kind of ['read', 'write'])
      capabilities.push({ issuer: vfs, params: JSON.stringify({ kind, drive }) });

    const grants: PlannedProcess['grants'] = [];
    for (const g of list(e.grant_capabilities, 'grant_capabilities', where)) {
      const parsed = manifestCapability(our, g);
      if (parsed) grants.push({ target: parsed.process, capability: { issuer: `${our}@${id}`, params: parsed.cap.params } });
      else skipped.push(`${id} manifest tried to grant invalid cap: ${JSON.stringify(g)}`);
    }

    return {
      id,
      wasmHandle: `${drive}/${wasmFile}`,
      wasm,
      onExit: checkOnExit(e.on_exit, where),
      public: bool(e.public, 'public', where),
      capabilities,
      grants,
    };
  });
  return { packageId, manifest, apiZip, processes, skipped };
}

/** The manifest.json of a package zip, checked only to be JSON (what NewPackage needs). */
export async function readManifest(zip: Uint8Array, limits?: ZipLimits): Promise<Uint8Array> {
  const entries = await unzipPackage(zip, limits, 'the package zip', (path) => path === 'manifest.json');
  const manifest = entries.find((e) => e.path === 'manifest.json' && !e.isDir);
  if (!manifest) throw new InstallCheckError('the package zip has no manifest.json at its root');
  try {
    JSON.parse(new TextDecoder().decode(manifest.bytes));
  } catch (e) {
    throw new InstallCheckError(`manifest.json is not JSON: ${(e as Error).message}`);
  }
  return manifest.bytes;
}
