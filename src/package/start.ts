// `kit start-package` and `kit remove-package`: check a built package the way kit does, then ask
// the node's App Store (`main:app-store:sys`) over the RPC to take the zip (NewPackage), install
// and start it (Install), or uninstall it (interop §2.4-2.6).

import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describeFsError, KitError } from '../cli/errors.js';
import { makeMessage, type RpcResponse, sendMessage } from '../node-client/rpc.js';
import type { Logger } from '../core/log.js';
import { checkManifestText, type ManifestEntry, ManifestError, underscoreHint } from '../core/manifest.js';
import { isSafeName, safeNameRule } from '../core/types.js';

export type { ManifestEntry } from '../core/manifest.js';
import { type Metadata, packageIdString, readAndUpdateMetadata, zipFilename } from './metadata.js';

export const APP_STORE_PROCESS = 'main:app-store:sys';
const MANIFEST_FILE = 'manifest.json';
/** How long start-package waits for a package's UI to be bound after the install. */
const UI_BIND_WAIT_MS = 15_000;

/** Whether one of `urls` answers with anything but 404 (nothing bound there) within `ms`. */
async function untilBound(urls: string[], ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    for (const url of urls) {
      const status = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(2000) }).then(
        async (r) => {
          await r.body?.cancel();
          return r.status;
        },
        () => 404,
      );
      if (status !== 404) return true;
    }
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 200));
  }
}
/**
 * kit sends Install with 15 s; a fake node transpiles each new component on install (seconds
 * each, more on a loaded machine), so allow longer. A real node's HTTP wait stays 15 s regardless.
 */
const INSTALL_EXPECTS_RESPONSE_SECS = 120;
const MANIFEST_HELP = 'see https://book.hyperware.ai/my_first_app/chapter_1.html#pkgmanifestjson';

export class PackageCheckError extends KitError {
  override name = 'PackageCheckError';
}

/** The node answered, but not with Success. */
export class AppStoreError extends KitError {
  override name = 'AppStoreError';
}

/** Where progress lines go; a Logger fits, and so does `{ info: console.log }`. */
export type Progress = Pick<Logger, 'info'>;

export interface StartPackageOptions {
  /** Package directory (has metadata.json, pkg/, target/<zip>). */
  packageDir: string;
  /** Node URL, e.g. http://localhost:8080 */
  url: string;
  log?: Progress;
}

export interface StartPackageResult {
  /** `package:publisher` */
  packageId: string;
  /** sha256 hex of the zip, as sent with Install. */
  versionHash: string;
  zipPath: string;
}

export async function startPackage(opts: StartPackageOptions): Promise<StartPackageResult> {
  const packageDir = resolve(opts.packageDir);
  const pkgDir = join(packageDir, 'pkg');
  if (!(await isDir(pkgDir))) {
    throw new PackageCheckError(
      `Required \`pkg/\` dir not found within given input dir "${packageDir}" (or cwd, if none given). Please re-run targeting a package.`,
      { hint: 'run `kit build` first (it creates pkg/), or pass the package directory as DIR' },
    );
  }
  const metadata = await readAndUpdateMetadata(packageDir);
  checkPackageId(metadata);
  const zipPath = zipFilename(packageDir, metadata);
  if (!(await isFile(zipPath))) {
    throw new PackageCheckError('Missing pkg zip.', {
      details: `expected ${zipPath}`,
      hint: 'Try `kit build`ing package first.',
    });
  }
  const manifest = await checkManifest(pkgDir);

  const packageId = packageIdString(metadata);
  const zip = new Uint8Array(await readFile(zipPath));
  const versionHash = createHash('sha256').update(zip).digest('hex');
  // The real kit prints the bare package id here; a newcomer read it as a stray line.
  opts.log?.info(`installing ${packageId} version ${versionHash.slice(0, 12)} on node at ${opts.url}`);

  const newPackage = await askAppStore(opts.url, newPackageBody(metadata), zip);
  if (field(newPackage.answer, 'NewPackageResponse') !== 'Success') {
    throw new AppStoreError(`Failed to add package. Got response from node: ${JSON.stringify(newPackage.answer)}`, {
      details: nodeReason(newPackage.reason),
      hint: newPackage.reason ? undefined : appStoreHint(field(newPackage.answer, 'NewPackageResponse')),
    });
  }
  const install = await askAppStore(opts.url, installBody(metadata, versionHash), undefined, INSTALL_EXPECTS_RESPONSE_SECS);
  if (field(install.answer, 'InstallResponse') !== 'Success') {
    throw new AppStoreError(`Failed to start package. Got response from node: ${JSON.stringify(install.answer)}`, {
      details: nodeReason(install.reason),
      hint: install.reason ? undefined : 'the node terminal (or its log) says which process failed to start',
    });
  }
  // The node answers Install once the processes are started, before they bind their paths: a
  // package with a UI returns when its page answers, so the URL works as soon as kit is done.
  if (await isDir(join(pkgDir, 'ui'))) {
    const pages = manifest.map((p) => `${opts.url}/${p.process_name}:${packageId}/`);
    if (!(await untilBound(pages, UI_BIND_WAIT_MS))) opts.log?.info(`the UI is not bound yet at ${pages.join(' or ')}: the process may still be starting`);
  }
  opts.log?.info(`Successfully installed package ${packageId} on node at ${opts.url}`);
  return { packageId, versionHash, zipPath };
}

export interface RemovePackageOptions {
  /** Package directory whose metadata.json names the package; used unless both names are given. */
  packageDir: string;
  packageName?: string;
  publisher?: string;
  url: string;
  log?: Progress;
}

export async function removePackage(opts: RemovePackageOptions): Promise<{ packageId: string }> {
  let packageName: string;
  let publisher: string;
  if (opts.packageName !== undefined && opts.publisher !== undefined) {
    packageName = opts.packageName;
    publisher = opts.publisher;
  } else if (opts.packageName !== undefined || opts.publisher !== undefined) {
    // kit would silently fall back to metadata.json here; naming the problem is kinder.
    throw new KitError('give both --package and --publisher, or neither (then DIR/metadata.json names the package)');
  } else {
    const metadata = await readAndUpdateMetadata(resolve(opts.packageDir));
    packageName = metadata.properties.package_name;
    publisher = metadata.properties.publisher;
  }
  const packageId = `${packageName}:${publisher}`;
  const { answer, reason } = await askAppStore(opts.url, { Uninstall: { package_name: packageName, publisher_node: publisher } });
  if (field(answer, 'UninstallResponse') !== 'Success') {
    throw new AppStoreError(`Failed to remove package. Got response from node: ${JSON.stringify(answer)}`, {
      details: nodeReason(reason),
      hint: `is ${packageId} installed on that node? (\`kit view-api --port <port>\` lists installed APIs)`,
    });
  }
  opts.log?.info(`Successfully removed package ${packageId} on node at ${opts.url}`);
  return { packageId };
}

export function newPackageBody(metadata: Metadata): unknown {
  return {
    NewPackage: {
      package_id: { package_name: metadata.properties.package_name, publisher_node: metadata.properties.publisher },
      mirror: true,
    },
  };
}

/** Install's metadata as kit sends it: every field present, `code_hashes` as [version, hash] pairs. */
export function installBody(metadata: Metadata, versionHash: string): unknown {
  const p = metadata.properties;
  return {
    Install: {
      package_id: { package_name: p.package_name, publisher_node: p.publisher },
      version_hash: versionHash,
      metadata: {
        name: metadata.name ?? null,
        description: metadata.description ?? null,
        image: metadata.image ?? null,
        external_url: metadata.external_url ?? null,
        animation_url: metadata.animation_url ?? null,
        properties: {
          package_name: p.package_name,
          publisher: p.publisher,
          current_version: p.current_version,
          mirrors: p.mirrors,
          code_hashes: Object.entries(p.code_hashes),
          license: p.license ?? null,
          screenshots: p.screenshots ?? null,
          wit_version: p.wit_version ?? null,
          dependencies: p.dependencies ?? null,
          api_includes: p.api_includes ?? null,
        },
      },
    },
  };
}

/**
 * Check pkg/manifest.json as kit does before installing: it parses, every wasm path is
 * `/<...>.wasm`, process names and wasm file names are Hypermap-safe, and every wasm exists.
 */
export async function checkManifest(pkgDir: string): Promise<ManifestEntry[]> {
  const manifestPath = join(pkgDir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(manifestPath, 'utf8');
  } catch (e) {
    throw new PackageCheckError(`Missing required ${MANIFEST_FILE} file (${manifestPath}: ${describeFsError(e)}).`, {
      cause: e,
      hint: MANIFEST_HELP,
    });
  }
  const entries = parseManifest(text, manifestPath);

  for (const entry of entries) {
    const rel = entry.process_wasm_path.replace(/^\//, '');
    if (await isFile(join(pkgDir, rel))) continue;
    // The usual cause: a build wrote `foo_bar.wasm` where the manifest says `foo-bar.wasm` (or back).
    for (const [variant, kind] of [
      [rel.replaceAll('-', '_'), 'underscores'],
      [rel.replaceAll('_', '-'), 'hyphens'],
    ] as const) {
      if (variant !== rel && (await isFile(join(pkgDir, variant)))) {
        throw new PackageCheckError(`Found "${variant}" (with ${kind}) in pkg/ but ${MANIFEST_FILE} expects "${rel}".`, {
          hint: `rename pkg/${variant} to ${rel} (process and file names use '-', never '_'), or fix the build that wrote it`,
        });
      }
    }
    throw new PackageCheckError(`Missing a .wasm file declared by ${MANIFEST_FILE}: pkg/${rel}.`, {
      hint: `Try \`kit build\`ing package first, or updating ${MANIFEST_FILE}.`,
    });
  }
  return entries;
}

/** Parse and check pkg/manifest.json's text; PackageCheckError says where (line and column) and what. */
export function parseManifest(text: string, file = `pkg/${MANIFEST_FILE}`): ManifestEntry[] {
  try {
    return checkManifestText(text, file);
  } catch (e) {
    if (e instanceof ManifestError)
      throw new PackageCheckError(`Failed to parse required ${MANIFEST_FILE} file: ${e.message}`, { hint: e.hint ?? MANIFEST_HELP });
    throw e;
  }
}

function checkPackageId(metadata: Metadata): void {
  const { package_name, publisher } = metadata.properties;
  if (!isSafeName(package_name)) {
    throw new PackageCheckError(`metadata.json: package_name "${package_name}" is not Hypermap-safe: use only ${safeNameRule()}`, {
      hint: underscoreHint(package_name),
    });
  }
  if (!isSafeName(publisher, true)) {
    throw new PackageCheckError(`metadata.json: publisher "${publisher}" is not Hypermap-safe: use only ${safeNameRule(true)}`);
  }
  if (publisher === 'sys') {
    throw new PackageCheckError('metadata.json: publisher "sys" is reserved for the node\'s own system packages, and nodes refuse packages that claim it', {
      hint: 'set "publisher" in metadata.json to your node name, e.g. "yourname.os"',
    });
  }
}

function appStoreHint(answer: unknown): string | undefined {
  switch (answer) {
    case 'NoBlob':
      return 'the node got no zip with the request; is the zip empty?';
    case 'InstallFailed':
      return 'the node could not read the zip: rebuild with `kit build`';
    case 'AlreadyExists':
      return 'remove the installed version first with `kit remove-package`';
    default:
      return undefined;
  }
}

/**
 * Send one App Store request: its Response body as JSON, and the reason for a failure when the
 * node gives one. Our node puts it in the Response's blob as text/plain, leaving the body in
 * Hyperdrive's shape (which the real kit reads); a real node sends no blob there.
 */
async function askAppStore(url: string, body: unknown, blob?: Uint8Array, expectsResponse?: number): Promise<{ answer: unknown; reason?: string }> {
  const message = makeMessage({ process: APP_STORE_PROCESS, body: JSON.stringify(body), blob, expectsResponse });
  const response = (await sendMessage(url, message)) as RpcResponse;
  let answer: unknown;
  try {
    answer = JSON.parse(response.body);
  } catch {
    throw new AppStoreError(`the node's App Store answered with something that is not JSON: ${response.body.slice(0, 500)}`);
  }
  const reason = response.blob && response.blobMime === 'text/plain' ? Buffer.from(response.blob).toString('utf8') : undefined;
  return { answer, reason };
}

function nodeReason(reason: string | undefined): string | undefined {
  return reason ? `the node says: ${reason}` : undefined;
}

function field(answer: unknown, key: string): unknown {
  return typeof answer === 'object' && answer !== null ? (answer as Record<string, unknown>)[key] : undefined;
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
