// What `kit publish` checks before it writes anything to Hypermap (interop §8.2): the metadata
// the URI serves is the package's own metadata.json, byte for byte (the App Store hashes the
// downloaded bytes against `~metadata-hash`), names are ones Hypermap and the App Store accept,
// and the zip `kit build` made hashes to `code_hashes[current_version]`.

import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { keccak256 } from 'viem';
import { describeFsError, KitError } from '../cli/errors.js';
import { type Metadata, metadataPath, parseMetadata, readAndUpdateMetadata, zipFilename } from '../package/metadata.js';
import { isDevelopmentBuild } from '../core/wasm-binary.js';
import { sha256Hex, unzip } from '../core/zip.js';

export class PublishCheckError extends KitError {
  override name = 'PublishCheckError';
}

/** How long a metadata URI may take to answer (the App Store's own limit is 30 s). */
const FETCH_TIMEOUT_MS = 30_000;
const NAME_RE = /^[a-z0-9-]+$/;
const PUBLISHER_RE = /^[a-z0-9\-.]+$/;

/** Fetch metadata bytes from http(s):// or file:// (a bare absolute path is read as a file). */
export async function fetchMetadata(uri: string): Promise<Uint8Array> {
  let url: URL | undefined;
  try {
    url = new URL(uri);
  } catch {
    url = undefined;
  }
  if (!url || url.protocol === 'file:') {
    const path = url ? fileURLToPath(url) : isAbsolute(uri) ? uri : undefined;
    if (!path) throw new PublishCheckError(`--metadata-uri ${uri} is not a URL`, { hint: 'use https://…, http://… or file:///absolute/path/metadata.json' });
    try {
      return new Uint8Array(await readFile(path));
    } catch (e) {
      throw new PublishCheckError(`cannot read the metadata at ${uri}: ${describeFsError(e)}`, { cause: e });
    }
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new PublishCheckError(`--metadata-uri ${uri}: ${url.protocol} URIs are not supported`, { hint: 'use https://, http:// or file://' });
  }
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'follow' });
  } catch (e) {
    const why = (e as Error).name === 'TimeoutError' ? `no answer within ${FETCH_TIMEOUT_MS / 1000} s` : describeCause(e);
    throw new PublishCheckError(`the metadata URI ${uri} does not answer: ${why}`, {
      cause: e,
      hint: 'check the URL, and that metadata.json is uploaded there (the App Store of every node fetches it too)',
    });
  }
  if (!res.ok) {
    throw new PublishCheckError(`the metadata URI ${uri} answered HTTP ${res.status} ${res.statusText}`, {
      hint: 'upload metadata.json there first; for GitHub use the raw link of a specific commit',
    });
  }
  return new Uint8Array(await res.arrayBuffer());
}

function describeCause(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (e as Error).message;
}

/** `~metadata-hash`: 0x + keccak256 of the metadata.json bytes, with a `\n` added if the file lacks a final one. */
export function metadataHash(bytes: Uint8Array): `0x${string}` {
  const withNl = bytes.length > 0 && bytes[bytes.length - 1] === 0x0a ? bytes : Uint8Array.from([...bytes, 0x0a]);
  return keccak256(withNl);
}

export interface CheckedPackage {
  metadata: Metadata;
  /** The Hypermap label of the app entry: the package name. */
  name: string;
  publisher: string;
  /** `~metadata-hash` note data, `0x…` (66 chars). */
  metadataHash: `0x${string}`;
  /** sha256 of the built zip (not computed for --unpublish). */
  zipHash?: string;
  zipPath?: string;
}

/** Every check of interop §8.2; throws PublishCheckError saying what is wrong and what to do. */
export async function checkPackage(dir: string, metadataUri: string, opts: { unpublish?: boolean } = {}): Promise<CheckedPackage> {
  const packageDir = resolve(dir);
  const metadata = await readAndUpdateMetadata(packageDir);
  const p = metadata.properties;
  // The real kit labels the entry with metadata.name; the App Store reads the package name from
  // the label. Both must agree or the app lands under the wrong package ID.
  const name = metadata.name ?? p.package_name;
  if (!NAME_RE.test(name)) {
    throw new PublishCheckError(`The App Store requires package names have only lowercase letters, digits, and \`-\`s; "${name}" does not`, {
      hint: 'rename the package (metadata.json name and properties.package_name)',
    });
  }
  if (name !== p.package_name) {
    throw new PublishCheckError(`metadata.json name "${name}" differs from properties.package_name "${p.package_name}"`, {
      hint: 'kit publishes under metadata.json "name" (the Hypermap label) and the App Store installs properties.package_name: make them the same',
    });
  }
  if (!PUBLISHER_RE.test(p.publisher) || !p.publisher.includes('.')) {
    throw new PublishCheckError(`publisher "${p.publisher}" is not a node name (lowercase letters, digits, \`-\` and \`.\`, e.g. my-node.os)`);
  }

  const localBytes = new Uint8Array(await readFile(metadataPath(packageDir)));
  const hash = metadataHash(localBytes);
  const remoteBytes = await fetchMetadata(metadataUri);
  const remoteText = new TextDecoder().decode(remoteBytes);
  let remote: Metadata;
  try {
    remote = parseMetadata(remoteText, metadataUri);
  } catch (e) {
    throw new PublishCheckError(`the metadata at ${metadataUri} is not valid metadata.json: ${(e as Error).message}`, {
      cause: e,
      hint: 'upload the package\'s metadata.json there, unchanged',
    });
  }
  if (JSON.stringify(canonical(remote)) !== JSON.stringify(canonical(metadata))) {
    throw new PublishCheckError('Local and remote metadata do not match', {
      details: `local: ${metadataPath(packageDir)}\nremote: ${metadataUri}`,
      hint: 'upload the current metadata.json (kit may have just moved current_version up) and publish again',
    });
  }
  if (keccak256(remoteBytes) !== hash) {
    throw new PublishCheckError(`the metadata at ${metadataUri} parses the same as metadata.json but its bytes differ, so every App Store would reject it (it checks keccak256 of the bytes against ~metadata-hash ${hash})`, {
      hint: 'upload metadata.json byte for byte, ending in a newline',
    });
  }
  if (opts.unpublish) return { metadata, name, publisher: p.publisher, metadataHash: hash };

  const version = p.current_version;
  const expected = p.code_hashes[version];
  const zipPath = zipFilename(packageDir, metadata);
  let zip: Uint8Array;
  try {
    zip = new Uint8Array(await readFile(zipPath));
  } catch (e) {
    throw new PublishCheckError(`cannot read the package zip ${zipPath}: ${describeFsError(e)}`, { hint: 'run `kit build` first' });
  }
  const dev = developmentComponents(zip);
  if (dev.length > 0) {
    throw new PublishCheckError(`${zipPath} holds development builds (${dev.join(', ')}), made by \`kit build --dev\`, \`kit watch\` or \`kit run-tests\`: only a release build is published`, {
      hint: 'run `kit build` (without --dev), put the zip hash it prints in properties.code_hashes, upload metadata.json again and publish',
    });
  }
  const zipHash = sha256Hex(zip);
  if (zipHash !== expected) {
    throw new PublishCheckError(
      `Zipped pkg hashes to '${zipHash}' not '${expected ?? ''}' as expected for current_version ${version} based on published metadata at ${metadataUri}`,
      { hint: `put "${version}": "${zipHash}" in properties.code_hashes (kit build prints the hash), upload metadata.json again and publish` },
    );
  }
  return { metadata, name, publisher: p.publisher, metadataHash: hash, zipHash, zipPath };
}

/** The metadata as the real kit compares it: Erc721Metadata fields only, absent = null, key order fixed. */
function canonical(m: Metadata): unknown {
  const p = m.properties;
  return [
    m.name ?? null,
    m.description ?? null,
    m.image ?? null,
    m.external_url ?? null,
    m.animation_url ?? null,
    p.package_name,
    p.publisher,
    p.current_version,
    p.mirrors,
    Object.entries(p.code_hashes).sort(([a], [b]) => a.localeCompare(b)),
    p.license ?? null,
    p.screenshots ?? null,
    p.wit_version ?? null,
    p.dependencies ?? null,
    p.api_includes ?? null,
  ];
}


/** The .wasm files of a package zip that development builds made. */
export function developmentComponents(zip: Uint8Array): string[] {
  let entries: ReturnType<typeof unzip>;
  try {
    entries = unzip(zip);
  } catch {
    return []; // not a zip kit can read: the hash check below says what is wrong
  }
  return entries.filter((e) => !e.isDir && e.path.endsWith('.wasm') && isDevelopmentBuild(e.bytes)).map((e) => e.path);
}
