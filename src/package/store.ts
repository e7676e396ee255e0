// kit's side of the App Store across nodes, for `kit view-api -d` and `kit build -d`: what a node's
// App Store lists as published, and downloading a published package into the node from a mirror
// (the publisher's node by default), checked there against the on-chain version hash.
// It works the same against our fake node and a real Hyperdrive, within what a real node lets the
// RPC do: the RPC speaks as http-server, which may message only main:app-store:sys (its manifest
// grants http-server; chain: and downloads: do not). So kit hands main the HTTP requests the App
// Store page sends (GET /apps/:id, POST /apps/:id/download, GET /downloads/:id;
// hyperdrive/packages/app-store/app-store/src/http_api.rs), asks the mirror itself whether it
// mirrors the package (MirrorCheck, which any node may send), fires the download (LocalDownload
// answers nothing) and polls the node's downloads until the zip is there. A real node serves the
// API of installed packages only, so when the downloaded one is not served kit installs it.

import { KitError } from '../cli/errors.js';
import { makeMessage, type RpcResponse, RpcStatusError, sendMessage } from '../node-client/rpc.js';
import { APP_STORE_PROCESS, AppStoreError } from './start.js';

export const DOWNLOADS_PROCESS = 'downloads:app-store:sys';
/** A little over the 120 s after which a node's receiving ft-worker gives up. */
const DOWNLOAD_WAIT_MS = 130_000;
const POLL_MS = 250;
/** Installing may transpile components first. */
const INSTALL_TIMEOUT_SECS = 300;

export class StoreError extends KitError {
  override name = 'StoreError';
}

export interface OnchainApp {
  package_id: { package_name: string; publisher_node: string };
  tba: string;
  metadata_uri: string;
  metadata_hash: string;
  metadata: {
    properties: { package_name: string; publisher: string; current_version: string; code_hashes: Array<[string, string]>; mirrors: string[] };
  } | null;
  auto_update: boolean;
}

function pkgJson(packageId: string) {
  const i = packageId.indexOf(':');
  if (i <= 0 || i === packageId.length - 1) throw new StoreError(`${packageId} is not a package ID (package:publisher)`);
  return { package_name: packageId.slice(0, i), publisher_node: packageId.slice(i + 1) };
}

async function ask(url: string, process: string, body: unknown, timeout: number, opts: { node?: string; blob?: Uint8Array } = {}): Promise<{ json: unknown; res: RpcResponse }> {
  const res = (await sendMessage(url, makeMessage({ process, body: JSON.stringify(body), expectsResponse: timeout, node: opts.node, blob: opts.blob }), {
    timeoutMs: (timeout + 15) * 1000,
  })) as RpcResponse | null;
  if (!res) throw new AppStoreError(`${process} on the node at ${url} sent no answer`);
  let json: unknown;
  try {
    json = JSON.parse(res.body);
  } catch {
    json = res.body;
  }
  return { json, res };
}

/** An HTTP request to main:app-store:sys's API, handed to main as http-server hands it. */
async function storeHttp(
  url: string,
  method: 'GET' | 'POST',
  route: string,
  params: Record<string, string>,
  body?: unknown,
): Promise<{ status: number; text: string; json: unknown }> {
  const path = route.replace(/:(\w+)/g, (_, k: string) => params[k] ?? '');
  const request = {
    Http: {
      source_socket_addr: null,
      method,
      url: `${url.replace(/\/$/, '')}/main:app-store:sys${path}`,
      bound_path: `/main:app-store:sys${route}`,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      url_params: params,
      query_params: {},
    },
  };
  const blob = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const { json, res } = await ask(url, APP_STORE_PROCESS, request, 15, { blob });
  const status = Number((json as { status?: unknown })?.status);
  if (!Number.isInteger(status)) throw new AppStoreError(`main:app-store:sys answered an HTTP request with ${res.body.slice(0, 300)}`);
  const text = Buffer.from(res.blob ?? new Uint8Array()).toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status, text, json: parsed };
}

async function storeGet(url: string, route: string, params: Record<string, string>): Promise<unknown> {
  const r = await storeHttp(url, 'GET', route, params);
  if (r.status !== 200) throw new AppStoreError(`the node's App Store answered GET ${route} with ${r.status}: ${r.text.slice(0, 300)}`);
  return r.json;
}

/** Every package the node's App Store has seen published on Hypermap. */
export async function listPublished(url: string): Promise<OnchainApp[]> {
  const apps = await storeGet(url, '/apps', {});
  if (!Array.isArray(apps)) throw new AppStoreError(`unexpected answer to GET /apps: ${JSON.stringify(apps).slice(0, 300)}`);
  return apps as OnchainApp[];
}

export async function getPublished(url: string, packageId: string): Promise<OnchainApp | null> {
  pkgJson(packageId);
  const app = await storeGet(url, '/apps/:id', { id: packageId });
  if (app !== null && (typeof app !== 'object' || !('package_id' in app))) throw new AppStoreError(`unexpected answer to GET /apps/${packageId}: ${JSON.stringify(app).slice(0, 300)}`);
  return app as OnchainApp | null;
}

/** The version hash the chain lists for the current version. */
export function currentVersionHash(app: OnchainApp): string | undefined {
  const p = app.metadata?.properties;
  if (!p) return undefined;
  return p.code_hashes.find(([v]) => v === p.current_version)?.[1];
}

export interface DownloadOptions {
  url: string;
  packageId: string;
  /** Mirror node; default the publisher. */
  downloadFrom?: string;
}

type DownloadErrorJson = string | { HashMismatch: { desired: string; actual: string } };

function describeDownloadError(e: DownloadErrorJson): string {
  if (typeof e === 'string') return e;
  return `HashMismatch: it served a zip hashing to ${e.HashMismatch.actual}, not the published ${e.HashMismatch.desired}`;
}

/** Whether the node's downloads hold `<hash>.zip` complete (its manifest is written last). */
async function downloaded(url: string, packageId: string, hash: string): Promise<boolean> {
  const r = await storeHttp(url, 'GET', '/downloads/:id', { id: packageId });
  if (r.status !== 200 || !Array.isArray(r.json)) return false;
  return (r.json as Array<{ File?: { name: string; manifest: string } }>).some((e) => e.File?.name === `${hash}.zip` && e.File.manifest !== '');
}

/** Failed downloads of this version the node lists with its updates (our node keeps them there). */
async function failures(url: string, packageId: string, hash: string): Promise<DownloadErrorJson[]> {
  const r = await storeHttp(url, 'GET', '/updates', {}).catch(() => undefined);
  const tries = (r?.json as Record<string, Record<string, { errors?: Array<[string, DownloadErrorJson]> }>> | undefined)?.[packageId]?.[hash]?.errors;
  return Array.isArray(tries) ? tries.map(([, e]) => e) : [];
}

/** Ask the mirror itself (through our node) whether it serves the package. */
async function mirrorCheck(url: string, mirror: string, packageId: string): Promise<void> {
  let answer: unknown;
  try {
    answer = (await ask(url, DOWNLOADS_PROCESS, { MirrorCheck: pkgJson(packageId) }, 10, { node: mirror })).json;
  } catch (e) {
    if (e instanceof RpcStatusError)
      throw new StoreError(`${mirror} did not answer whether it mirrors ${packageId} (${e.message}${e.reason ? `: ${e.reason}` : ''})`, {
        hint: `is ${mirror} online and reachable from the node at ${url}? pass another mirror with -d`,
      });
    throw e;
  }
  if (answer === 'Success') return;
  const err = (answer as { Err?: DownloadErrorJson } | undefined)?.Err;
  if (err === 'NotMirroring')
    throw new StoreError(`${mirror} refused: it does not mirror ${packageId} (NotMirroring)`, {
      hint: `the publisher mirrors what it publishes with \`kit start-package\`; name another mirror with -d`,
    });
  throw new StoreError(`${mirror} answered MirrorCheck for ${packageId} with ${JSON.stringify(answer)}`);
}

/** The node's own name, when it says (GET /our, which both runtimes serve). */
async function ourName(url: string): Promise<string | undefined> {
  try {
    const r = await fetch(`${url.replace(/\/$/, '')}/our`, { signal: AbortSignal.timeout(5000) });
    return r.ok ? (await r.text()).trim() : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Download the published current version into the node (its sha256 checked there against the
 * on-chain hash). Returns the version hash once the zip is in the node's downloads.
 */
export async function downloadPackage(opts: DownloadOptions): Promise<string> {
  const app = await getPublished(opts.url, opts.packageId);
  if (!app) {
    throw new StoreError(`${opts.packageId} is not published on the chain the node at ${opts.url} follows`, {
      hint: 'publish it with `kit publish`, or check the package ID',
    });
  }
  const hash = currentVersionHash(app);
  if (!hash) {
    throw new StoreError(`${opts.packageId} is published, but the node could not read its metadata (${app.metadata_uri}) or it lists no hash for its current version`);
  }
  if (await downloaded(opts.url, opts.packageId, hash)) return hash;
  const from = opts.downloadFrom ?? app.package_id.publisher_node;
  if (from !== (await ourName(opts.url))) await mirrorCheck(opts.url, from, opts.packageId);

  const failedBefore = (await failures(opts.url, opts.packageId, hash)).length;
  const started = await storeHttp(opts.url, 'POST', '/apps/:id/download', { id: opts.packageId }, { download_from: from, version_hash: hash });
  if (started.status !== 200) throw new StoreError(`the node's App Store did not start the download: ${started.status} ${started.text.slice(0, 300)}`);

  const deadline = Date.now() + DOWNLOAD_WAIT_MS;
  for (let round = 0; Date.now() < deadline; round++) {
    await new Promise((r) => setTimeout(r, POLL_MS));
    if (await downloaded(opts.url, opts.packageId, hash)) return hash;
    if (round % 4 === 3) {
      const failed = await failures(opts.url, opts.packageId, hash);
      if (failed.length > failedBefore) {
        const why = describeDownloadError(failed[failed.length - 1]);
        throw new StoreError(`Could not download ${opts.packageId} from ${from}: ${why}`, {
          hint: /HashMismatch/.test(why) ? 'the mirror served a zip that is not the published version; try another mirror with -d' : `is ${from} online and mirroring ${opts.packageId}?`,
        });
      }
    }
  }
  throw new StoreError(`${opts.packageId} version ${hash} did not arrive from ${from} within ${DOWNLOAD_WAIT_MS / 1000} s`, {
    details: `${from} mirrors it (it answered MirrorCheck), so it may not hold that version or it served bytes that do not hash to it; the node's terminal says which`,
    hint: 'try another mirror with -d',
  });
}

/** Install a downloaded version, with its on-chain metadata (Install with metadata null). */
export async function installDownloaded(url: string, packageId: string, hash: string): Promise<void> {
  const { json, res } = await ask(url, APP_STORE_PROCESS, { Install: { package_id: pkgJson(packageId), metadata: null, version_hash: hash } }, INSTALL_TIMEOUT_SECS);
  if ((json as { InstallResponse?: unknown })?.InstallResponse !== 'Success') {
    throw new StoreError(`Failed to install ${packageId}. Got response from node: ${res.body}`);
  }
}

/** Download (as above) and install. */
export async function installFromStore(opts: DownloadOptions): Promise<string> {
  const hash = await downloadPackage(opts);
  await installDownloaded(opts.url, opts.packageId, hash);
  return hash;
}

/** GetApi: the package's api.zip, or the node's answer when it has none. */
export async function getApiZip(url: string, packageId: string, timeoutSecs = 5): Promise<{ zip?: Uint8Array; answer: string }> {
  const { res } = await ask(url, APP_STORE_PROCESS, { GetApi: pkgJson(packageId) }, timeoutSecs);
  return { zip: res.blob && res.blob.length > 0 ? res.blob : undefined, answer: res.body };
}

/**
 * A published package's API, downloaded from `downloadFrom` first. Our node serves a downloaded
 * package's API; a real one only an installed package's, so then the package is installed (and
 * `note` says so).
 */
export async function downloadApi(opts: DownloadOptions & { note?: (text: string) => void }): Promise<{ zip?: Uint8Array; answer: string }> {
  const hash = await downloadPackage(opts);
  const got = await getApiZip(opts.url, opts.packageId);
  if (got.zip) return got;
  opts.note?.(`installing ${opts.packageId} on the node at ${opts.url}: it serves the API of installed packages only`);
  await installDownloaded(opts.url, opts.packageId, hash);
  return getApiZip(opts.url, opts.packageId);
}
