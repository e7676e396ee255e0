// The APIs of a package's dependencies (metadata.json `properties.dependencies`), which its
// processes are built against: from local package folders (-l), else from a node's app store
// (`GetApi` to main:app-store:sys over the node's RPC, interop §3.6/§9.1), cached in kit's cache.

import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { unzipSync } from 'fflate';
import { KIT_CACHE } from '../core/cache.js';
import type { Logger } from '../core/log.js';
import { IdParseError, parsePackageId } from '../core/types.js';
import { DependencyError } from './errors.js';
import { readMetadata } from '../package/metadata.js';
import { downloadApi, getApiZip } from '../package/store.js';
import { NodeUnreachableError, nodeUrl, } from '../node-client/rpc.js';
import { KitError } from '../cli/errors.js';
import { shippedApiDir } from './paths.js';
import { readApiWits, type WitFile } from './wit.js';

export interface DependencyOptions {
  packageDir: string;
  dependencies: string[];
  /** Local dependency package folders (-l), relative to the working directory. */
  localDependencies: string[];
  /** Node to ask for APIs not found locally: http://localhost:<port>. */
  port: number;
  logger: Logger;
  /** -d/--download-from: a node to download a published dependency from when the node at `port` lacks its API. */
  downloadFrom?: string;
}

export interface DependencyApis {
  files: WitFile[];
  /** Library components of the dependencies (target/api/*.wasm of a -l package, *.wasm of an API zip): composed into importers. */
  wasms: string[];
  /** Where each dependency's API came from, for the log. */
  sources: Record<string, string>;
}

function witsIn(dir: string): WitFile[] {
  const out: WitFile[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.wit')) out.push({ name: e.name, text: readFileSync(p, 'utf8'), origin: p });
    }
  };
  if (existsSync(dir)) walk(dir);
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** The `.wasm` files directly in `dir` (a -l package's target/api, an unpacked API zip). */
function wasmsIn(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.wasm'))
    .sort()
    .map((f) => join(dir, f));
}

/** The API WIT files kit ships for a dependency (`apis/<package:publisher>-v<N>.wit`). */
export function shippedApi(dep: string): WitFile[] {
  const dir = shippedApiDir();
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.startsWith(`${dep}-v`) && f.endsWith('.wit'))
    .sort()
    .map((name) => ({ name, text: readFileSync(join(dir, name), 'utf8'), origin: join(dir, name) }));
}

export function apiCacheDir(packageId: string): string {
  return join(KIT_CACHE, `${packageId}-api`);
}

/** Asks the node's app store for a package's API zip; returns its bytes, or why not. */
async function fetchApi(port: number, packageName: string, publisher: string): Promise<{ zip?: Uint8Array; failure?: string; unreachable?: string }> {
  const url = nodeUrl(port);
  try {
    const got = await getApiZip(url, `${packageName}:${publisher}`);
    return got.zip ? { zip: got.zip } : { failure: got.answer || 'no API in the response' };
  } catch (e) {
    if (e instanceof NodeUnreachableError) return { unreachable: url };
    if (e instanceof KitError) return { failure: e.message };
    throw e;
  }
}

export async function resolveDependencyApis(opts: DependencyOptions): Promise<DependencyApis> {
  const files: WitFile[] = [];
  const wasms: string[] = [];
  const sources: Record<string, string> = {};
  const provided = new Set<string>();
  for (const raw of opts.localDependencies) {
    const dir = resolve(raw);
    if (dir === opts.packageDir) continue;
    if (!existsSync(dir))
      throw new DependencyError(`local dependency ${raw} does not exist (-l/--local-dependency).`, 'Pass the path of a package folder (one with metadata.json).');
    let id = basename(dir);
    try {
      const meta = await readMetadata(dir);
      id = `${meta.properties.package_name}:${meta.properties.publisher}`;
      provided.add(meta.properties.package_name);
    } catch {
      // a folder without metadata still supplies api/*.wit, named by its folder as kit does
    }
    provided.add(basename(dir));
    const wits = readApiWits(dir, process.cwd());
    files.push(...wits);
    wasms.push(...wasmsIn(join(dir, 'target', 'api')));
    sources[id] = dir;
  }
  for (const dep of opts.dependencies) {
    let pkg: ReturnType<typeof parsePackageId>;
    try {
      pkg = parsePackageId(dep);
    } catch (e) {
      if (e instanceof IdParseError) throw new DependencyError(`Dependencies must be PackageIds (e.g. \`package:publisher.os\`); given ${dep}.`, 'Fix properties.dependencies in metadata.json.');
      throw e;
    }
    if (provided.has(pkg.packageName) || pkg.packageName === basename(opts.packageDir)) continue;
    // APIs kit ships (the tester's) are ABI facts: no node needed to build against them.
    const shipped = shippedApi(dep);
    if (shipped.length > 0) {
      files.push(...shipped);
      sources[dep] = 'kit';
      continue;
    }
    const cache = apiCacheDir(dep);
    let got = await fetchApi(opts.port, pkg.packageName, pkg.publisherNode);
    if (!got.zip && !got.unreachable && opts.downloadFrom) {
      const fetched = await downloadApi({ url: nodeUrl(opts.port), packageId: dep, downloadFrom: opts.downloadFrom, note: (t) => opts.logger.info(t) });
      got = fetched.zip ? { zip: fetched.zip } : { failure: fetched.answer };
    }
    if (got.zip) {
      rmSync(cache, { recursive: true, force: true });
      mkdirSync(cache, { recursive: true });
      for (const [name, bytes] of Object.entries(unzipSync(got.zip))) {
        if (name.endsWith('/')) continue;
        const out = join(cache, name);
        if (!out.startsWith(cache)) continue; // never write outside the cache folder
        mkdirSync(dirname(out), { recursive: true });
        writeFileSync(out, bytes);
      }
      files.push(...witsIn(cache));
      wasms.push(...wasmsIn(cache));
      sources[dep] = `node at localhost:${opts.port}`;
      continue;
    }
    const cached = witsIn(cache);
    if (got.unreachable && cached.length > 0) {
      opts.logger.warning(`no node at localhost:${opts.port} (${got.unreachable}); using the API of ${dep} cached in ${cache}`);
      files.push(...cached);
      wasms.push(...wasmsIn(cache));
      sources[dep] = cache;
      continue;
    }
    const why = got.unreachable ? `no node answered at ${got.unreachable}` : `the node at localhost:${opts.port} has no API for it: ${got.failure}`;
    throw new DependencyError(
      `dependency ${dep} (metadata.json) has no API here: it is not a local dependency and ${why}.`,
      `Pass its package folder with -l/--local-dependency, or install it on the node at localhost:${opts.port} (-p) first.`,
    );
  }
  return { files, sources, wasms };
}
