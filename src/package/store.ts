// kit's side of the App Store across nodes: what a node's chain:app-store:sys lists as published,
// and downloading a published package into a node's downloads:app-store:sys from a mirror (the
// publisher's node by default), checked against the on-chain version hash, then installing it.
// Used by `kit view-api -d` and `kit build -d`; the same messages work from `kit inject-message`.

import { KitError } from '../cli/errors.js';
import { makeMessage, type RpcResponse, sendMessage } from '../node-client/rpc.js';
import { APP_STORE_PROCESS, AppStoreError } from './start.js';

export const CHAIN_PROCESS = 'chain:app-store:sys';
export const DOWNLOADS_PROCESS = 'downloads:app-store:sys';
/** A download moves a whole zip between nodes: give it time. */
const DOWNLOAD_TIMEOUT_SECS = 120;

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

async function ask(url: string, process: string, body: unknown, timeout = 15): Promise<{ json: unknown; res: RpcResponse }> {
  const res = (await sendMessage(url, makeMessage({ process, body: JSON.stringify(body), expectsResponse: timeout }), {
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

/** Every package the node's App Store has seen published on Hypermap. */
export async function listPublished(url: string): Promise<OnchainApp[]> {
  const { json, res } = await ask(url, CHAIN_PROCESS, 'GetApps');
  const apps = (json as { GetApps?: unknown })?.GetApps;
  if (!Array.isArray(apps)) throw new AppStoreError(`unexpected answer to GetApps: ${res.body.slice(0, 300)}`);
  return apps as OnchainApp[];
}

export async function getPublished(url: string, packageId: string): Promise<OnchainApp | null> {
  const { json, res } = await ask(url, CHAIN_PROCESS, { GetApp: pkgJson(packageId) });
  if (!json || typeof json !== 'object' || !('GetApp' in json)) throw new AppStoreError(`unexpected answer to GetApp: ${res.body.slice(0, 300)}`);
  return (json as { GetApp: OnchainApp | null }).GetApp;
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

/** Download the published current version into the node (hash checked there). Returns the version hash. */
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
  const from = opts.downloadFrom ?? app.package_id.publisher_node;
  const body = { LocalDownload: { package_id: pkgJson(opts.packageId), download_from: from, desired_version_hash: hash } };
  const { json, res } = await ask(opts.url, DOWNLOADS_PROCESS, body, DOWNLOAD_TIMEOUT_SECS);
  if (json !== 'Success') {
    throw new StoreError(`Could not find package ${opts.packageId} locally or via download from ${from}: ${res.body}`, {
      hint: /HashMismatch/.test(res.body)
        ? 'the mirror served a zip that is not the published version; try another mirror with -d'
        : `is ${from} online and mirroring ${opts.packageId}?`,
    });
  }
  return hash;
}

/** Download (as above) and install with the on-chain metadata. */
export async function installFromStore(opts: DownloadOptions): Promise<string> {
  const hash = await downloadPackage(opts);
  const { json, res } = await ask(opts.url, APP_STORE_PROCESS, { Install: { package_id: pkgJson(opts.packageId), metadata: null, version_hash: hash } }, 300);
  if ((json as { InstallResponse?: unknown })?.InstallResponse !== 'Success') {
    throw new StoreError(`Failed to install ${opts.packageId}. Got response from node: ${res.body}`);
  }
  return hash;
}
