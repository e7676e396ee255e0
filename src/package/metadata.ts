// A package's metadata.json (the ERC-721 style metadata the App Store reads) and the two facts kit
// derives from it: the package ID and the name of the built zip. `readAndUpdateMetadata` moves
// `current_version` up to the newest version listed in `code_hashes`, as kit does before
// build, start-package, remove-package and publish (interop §2.2, §2.3).

import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeFsError, KitError } from '../cli/errors.js';

export interface MetadataProperties {
  package_name: string;
  publisher: string;
  current_version: string;
  mirrors: string[];
  /** version -> sha256 hex of that version's zip ("" until published). */
  code_hashes: Record<string, string>;
  license?: string | null;
  screenshots?: string[] | null;
  wit_version?: number | null;
  dependencies?: string[] | null;
  api_includes?: string[] | null;
}

export interface Metadata {
  name?: string | null;
  description?: string | null;
  image?: string | null;
  external_url?: string | null;
  animation_url?: string | null;
  properties: MetadataProperties;
}

export class MetadataError extends KitError {
  override name = 'MetadataError';
}

export const METADATA_FILE = 'metadata.json';

export function metadataPath(packageDir: string): string {
  return join(packageDir, METADATA_FILE);
}

/** Read and check metadata.json; no version update. */
export async function readMetadata(packageDir: string): Promise<Metadata> {
  return parseMetadata(await readMetadataText(packageDir), metadataPath(packageDir));
}

/**
 * Read metadata.json; if `code_hashes` lists a version newer than `current_version`, rewrite
 * the file with that version (line by line, every line ending in `\n`, as kit does) and return
 * the updated metadata. kit never writes `code_hashes`.
 */
export async function readAndUpdateMetadata(packageDir: string): Promise<Metadata> {
  const path = metadataPath(packageDir);
  const text = await readMetadataText(packageDir);
  const metadata = parseMetadata(text, path);
  const newest = newestListedVersion(metadata, path);
  const current = parseSemver(metadata.properties.current_version);
  if (!current) {
    throw new MetadataError(`${path} has a current_version (${metadata.properties.current_version}) that is not a semantic version`, {
      hint: 'use MAJOR.MINOR.PATCH, e.g. "0.1.0"',
    });
  }
  const order = compareSemver(newest.version, current);
  if (order === 0) return metadata;
  if (order < 0) {
    throw new MetadataError(
      `${path} has a current_version (${metadata.properties.current_version}) that does not exist: newest listed version ${newest.text}`,
      { hint: `add "${metadata.properties.current_version}" to properties.code_hashes, or set current_version to ${newest.text}` },
    );
  }
  await writeFile(path, rewriteCurrentVersion(text, newest.text));
  return { ...metadata, properties: { ...metadata.properties, current_version: newest.text } };
}

/** kit's rewrite: replace the version on every `"current_version": "X.Y.Z"` line; `\n` after every line. */
export function rewriteCurrentVersion(text: string, version: string): string {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines
    .map((line) => line.replace(/\r$/, '').replace(/("current_version":\s*")(\d+\.\d+\.\d+)/g, `$1${version}`))
    .map((line) => `${line}\n`)
    .join('');
}

/** `<package_name>:<publisher>`, e.g. `chat:template.os`. */
export function packageIdString(metadata: Metadata): string {
  return `${metadata.properties.package_name}:${metadata.properties.publisher}`;
}

/**
 * The zip `kit build` writes and `kit start-package` reads: `target/<package>:<publisher>` with its
 * extension replaced by `zip`, exactly as Rust's `Path::with_extension` does. So the publisher's last
 * dot-segment disappears: `chat:template.os` -> `target/chat:template.zip`, `tester:sys` -> `target/tester:sys.zip`.
 */
export function zipFilename(packageDir: string, metadata: Metadata): string {
  return join(packageDir, 'target', withZipExtension(packageIdString(metadata)));
}

export function withZipExtension(fileName: string): string {
  const dot = fileName.lastIndexOf('.');
  // A leading dot starts a hidden name, not an extension (Rust agrees).
  return dot > 0 ? `${fileName.slice(0, dot)}.zip` : `${fileName}.zip`;
}

async function readMetadataText(packageDir: string): Promise<string> {
  const path = metadataPath(packageDir);
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw new MetadataError(`cannot read ${path}: ${describeFsError(e)}`, {
      cause: e,
      hint: 'run kit in a package directory (one made by `kit new`) or pass its path as DIR',
    });
  }
}

export function parseMetadata(text: string, path = METADATA_FILE): Metadata {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new MetadataError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
  const bad = (what: string) =>
    new MetadataError(`${path}: ${what}`, {
      hint: 'see the metadata.json that `kit new` writes (https://book.hyperware.ai/my_first_app/chapter_1.html)',
    });
  if (!isObject(raw)) throw bad('expected a JSON object');
  for (const key of ['name', 'description', 'image', 'external_url', 'animation_url']) {
    if (raw[key] !== undefined && raw[key] !== null && typeof raw[key] !== 'string') throw bad(`"${key}" must be a string or null`);
  }
  const props = raw.properties;
  if (!isObject(props)) throw bad('missing "properties" object');
  for (const key of ['package_name', 'publisher', 'current_version']) {
    if (typeof props[key] !== 'string') throw bad(`properties.${key} must be a string`);
  }
  if (!Array.isArray(props.mirrors) || !props.mirrors.every((m) => typeof m === 'string')) {
    throw bad('properties.mirrors must be a list of strings');
  }
  if (!isObject(props.code_hashes) || !Object.values(props.code_hashes).every((h) => typeof h === 'string')) {
    throw bad('properties.code_hashes must be an object of version -> hash strings');
  }
  if (props.wit_version !== undefined && props.wit_version !== null) {
    if (typeof props.wit_version !== 'number' || !Number.isInteger(props.wit_version) || props.wit_version < 0) {
      throw bad('properties.wit_version must be a whole number or null');
    }
  }
  for (const key of ['screenshots', 'dependencies', 'api_includes']) {
    const v = props[key];
    if (v !== undefined && v !== null && (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))) {
      throw bad(`properties.${key} must be a list of strings or null`);
    }
  }
  if (props.license !== undefined && props.license !== null && typeof props.license !== 'string') {
    throw bad('properties.license must be a string or null');
  }
  return raw as unknown as Metadata;
}

function newestListedVersion(metadata: Metadata, path: string): { version: Semver; text: string } {
  let best: { version: Semver; text: string } | undefined;
  for (const key of Object.keys(metadata.properties.code_hashes)) {
    const v = parseSemver(key);
    if (v && (!best || compareSemver(v, best.version) > 0)) best = { version: v, text: key };
  }
  if (!best) {
    throw new MetadataError(`${path} doesn't list versions`, {
      hint: `add the current version to properties.code_hashes, e.g. "code_hashes": {"${metadata.properties.current_version}": ""}`,
    });
  }
  return best;
}

export interface Semver {
  major: number;
  minor: number;
  patch: number;
  pre: string[];
  build: string;
}

const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;

/** Semantic Versioning 2.0.0, strictly (no `v` prefix, no leading zeros); undefined if not one. */
export function parseSemver(text: string): Semver | undefined {
  const m = SEMVER.exec(text);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), pre: m[4] ? m[4].split('.') : [], build: m[5] ?? '' };
}

/** Precedence order; a release outranks its pre-releases; build metadata breaks ties. */
export function compareSemver(a: Semver, b: Semver): number {
  for (const k of ['major', 'minor', 'patch'] as const) if (a[k] !== b[k]) return a[k] < b[k] ? -1 : 1;
  if (a.pre.length === 0 || b.pre.length === 0) {
    if (a.pre.length !== b.pre.length) return a.pre.length === 0 ? 1 : -1;
  } else {
    for (let i = 0; i < Math.max(a.pre.length, b.pre.length); i++) {
      const x = a.pre[i];
      const y = b.pre[i];
      if (x === undefined) return -1;
      if (y === undefined) return 1;
      if (x === y) continue;
      const xn = /^\d+$/.test(x);
      const yn = /^\d+$/.test(y);
      if (xn && yn) return Number(x) < Number(y) ? -1 : 1;
      if (xn !== yn) return xn ? -1 : 1;
      return x < y ? -1 : 1;
    }
  }
  return a.build === b.build ? 0 : a.build < b.build ? -1 : 1;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
