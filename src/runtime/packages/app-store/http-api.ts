// main:app-store:sys's HTTP API, the one the App Store page uses (hyperdrive/packages/app-store/
// app-store/src/http_api.rs): bound under /main:app-store:sys, authenticated, answered with the
// same status codes and JSON bodies. It is also how kit reaches chain: and downloads: on any node:
// a real node lets the RPC (which speaks as http-server) message only main:app-store:sys, whose
// manifest grants http-server; kit hands main the HTTP request the page would send.
//   GET /apps, /apps/:id, /ourapps              chain: GetApps / GetApp / GetOurApps
//   DELETE /apps/:id                            uninstall
//   POST /apps/:id/download {download_from, version_hash}   LocalDownload (no wait) -> "Success"
//   POST /apps/:id/install {version_hash}       install the downloaded zip -> 201
//   GET /downloads, /downloads/:id              downloads: GetFiles
//   PUT|DELETE /downloads/:id/mirror            Start/StopMirroring
//   POST /downloads/:id/remove {version_hash}   RemoveFile
//   GET /manifest?id=&version_hash=             a downloaded version's manifest
//   GET /installed, /installed/:id              what is installed
//   GET /updates, POST /updates/:id/clear       failed or pending updates (and, here, failed downloads)
//   PUT|DELETE /apps/:id/auto-update            chain: Start/StopAutoUpdate
//   POST /reset                                 chain: Reset
//   GET /mirrorcheck/:id/:node                  {node, is_online, error}
//   GET /homepageapps                           homepage: GetApps

import type { KernelApi } from '../../kernel/api.js';
import { type ProcessId, systemProcess } from '../../../core/types.js';
import type { InstalledPackage, Updates } from './index.js';
import { type PackageIdJson, packageIdString, parsePackageIdJson } from './plan.js';

const CHAIN: ProcessId = { processName: 'chain', packageName: 'app-store', publisherNode: 'sys' };
const DOWNLOADS: ProcessId = { processName: 'downloads', packageName: 'app-store', publisherNode: 'sys' };
const HOMEPAGE: ProcessId = { processName: 'homepage', packageName: 'homepage', publisherNode: 'sys' };
const PREFIX = '/main:app-store:sys';

const PATHS = [
  '/apps',
  '/downloads',
  '/installed',
  '/ourapps',
  '/updates',
  '/homepageapps',
  '/apps/:id',
  '/downloads/:id',
  '/installed/:id',
  '/manifest',
  '/apps/:id/download',
  '/apps/:id/install',
  '/downloads/:id/mirror',
  '/downloads/:id/remove',
  '/reset',
  '/apps/:id/auto-update',
  '/updates/:id/clear',
  '/mirrorcheck/:id/:node',
];

/** What main lends its HTTP API. */
export interface StoreHttp {
  our: string;
  /** Ask a process on our node (or on `node`) and parse its JSON answer; throws saying why not. */
  ask(process: ProcessId, body: unknown, timeoutSecs?: number, node?: string): Promise<{ json: unknown }>;
  tell(process: ProcessId, body: unknown): void;
  installed(): Record<string, InstalledPackage>;
  install(pkg: PackageIdJson, versionHash: string): Promise<void>;
  uninstall(pkg: PackageIdJson): Promise<void>;
  updates(): Updates;
  clearUpdates(pkg: string): Promise<void>;
}

export interface HttpAnswer {
  status: number;
  body: Uint8Array;
}

/** Bind the API paths as Hyperdrive's main does at init (authenticated, not local-only). */
export function bindStoreHttp(kernel: KernelApi, main: ProcessId): void {
  for (const path of PATHS)
    kernel.tell(main, { node: kernel.our, process: systemProcess('http-server') }, JSON.stringify({ Bind: { path, authenticated: true, local_only: false, cache: false } }));
}

const json = (status: number, value: unknown): HttpAnswer => ({ status, body: new TextEncoder().encode(JSON.stringify(value)) });
const text = (status: number, value: string): HttpAnswer => ({ status, body: new TextEncoder().encode(value) });

class HttpApiError extends Error {}

function packageIdParam(params: Record<string, string>): PackageIdJson {
  const id = params.id ?? '';
  const i = id.indexOf(':');
  if (i <= 0) throw new HttpApiError(`Missing id`);
  return parsePackageIdJson({ package_name: id.slice(0, i), publisher_node: id.slice(i + 1) });
}

function bodyField(blob: Uint8Array | undefined, field: string, what: string): string {
  if (!blob) throw new HttpApiError('missing blob');
  let v: unknown;
  try {
    v = (JSON.parse(new TextDecoder().decode(blob)) as Record<string, unknown>)?.[field];
  } catch {
    v = undefined;
  }
  if (typeof v !== 'string') throw new HttpApiError(`No ${what} specified!`);
  return v;
}

function packageInfo(p: InstalledPackage): unknown {
  return {
    package_id: p.package_id,
    our_version_hash: p.version_hash,
    publisher: p.package_id.publisher_node,
    verified: true,
    caps_approved: true,
  };
}

/** Answer one IncomingHttpRequest (`{"Http": …}`'s value) with status and body, as http_api.rs does. */
export async function serveStoreHttp(ctx: StoreHttp, request: unknown, blob: Uint8Array | undefined): Promise<HttpAnswer> {
  const req = (request ?? {}) as { method?: unknown; bound_path?: unknown; url_params?: unknown; query_params?: unknown };
  const method = typeof req.method === 'string' ? req.method.toUpperCase() : 'GET';
  const full = typeof req.bound_path === 'string' ? req.bound_path : '';
  const path = full.startsWith(PREFIX) ? full.slice(PREFIX.length) : full;
  const params = (req.url_params && typeof req.url_params === 'object' ? req.url_params : {}) as Record<string, string>;
  const query = (req.query_params && typeof req.query_params === 'object' ? req.query_params : {}) as Record<string, string>;
  const wrongMethod = () => text(405, `Invalid method ${method} for ${path}`);
  try {
    return await route(ctx, method, path, params, query, blob, wrongMethod);
  } catch (e) {
    if (e instanceof HttpApiError && e.message === 'Missing id') return text(400, 'Missing id');
    return json(500, { error: (e as Error).message });
  }
}

async function route(
  ctx: StoreHttp,
  method: string,
  path: string,
  params: Record<string, string>,
  query: Record<string, string>,
  blob: Uint8Array | undefined,
  wrongMethod: () => HttpAnswer,
): Promise<HttpAnswer> {
  const chain = async (body: unknown, variant: string) => {
    const { json: msg } = await ctx.ask(CHAIN, body);
    if (!msg || typeof msg !== 'object' || !(variant in msg)) throw new Error(`Invalid response from chain: ${JSON.stringify(msg)}`);
    return (msg as Record<string, unknown>)[variant];
  };
  const downloads = async (body: unknown) => {
    const { json: msg } = await ctx.ask(DOWNLOADS, body);
    if (msg && typeof msg === 'object' && 'GetFiles' in msg) return (msg as { GetFiles: unknown }).GetFiles;
    if (msg && typeof msg === 'object' && 'Err' in msg) throw new Error(`Error from downloads: ${JSON.stringify((msg as { Err: unknown }).Err)}`);
    if (msg === 'Success') return msg;
    throw new Error(`Invalid response from downloads: ${JSON.stringify(msg)}`);
  };

  switch (path) {
    case '/apps':
      return json(200, await chain('GetApps', 'GetApps'));
    case '/ourapps':
      return json(200, await chain('GetOurApps', 'GetOurApps'));
    case '/apps/:id': {
      const pkg = packageIdParam(params);
      if (method === 'GET') return json(200, await chain({ GetApp: pkg }, 'GetApp'));
      if (method === 'DELETE') {
        await ctx.uninstall(pkg);
        return text(204, 'Uninstalled');
      }
      return wrongMethod();
    }
    case '/downloads':
      return json(200, await downloads({ GetFiles: null }));
    case '/downloads/:id':
      return json(200, await downloads({ GetFiles: packageIdParam(params) }));
    case '/manifest': {
      let pkg: PackageIdJson;
      try {
        pkg = packageIdParam(query);
      } catch {
        return text(400, 'Missing id in query params.');
      }
      const hash = query.version_hash;
      if (!hash) return text(400, 'Missing version_hash in query params.');
      let files: unknown;
      try {
        files = await downloads({ GetFiles: pkg });
      } catch (e) {
        return text(404, (e as Error).message);
      }
      const file = (files as Array<{ File?: { name: string; manifest: string } }>).find((f) => f.File?.name === `${hash}.zip`)?.File;
      if (!file) return text(404, `File with version hash ${hash} not found`);
      return json(200, { package_id: pkg, version_hash: hash, manifest: file.manifest });
    }
    case '/installed':
      return json(200, Object.values(ctx.installed()).map(packageInfo));
    case '/installed/:id': {
      const pkg = packageIdString(packageIdParam(params));
      const p = ctx.installed()[pkg];
      if (!p) throw new Error(`Package with id ${pkg} not found`);
      return json(200, packageInfo(p));
    }
    case '/homepageapps': {
      const { json: apps } = await ctx.ask(HOMEPAGE, 'GetApps');
      return json(200, apps);
    }
    case '/apps/:id/download': {
      const pkg = packageIdParam(params);
      const download_from = bodyField(blob, 'download_from', 'download_from');
      const desired_version_hash = bodyField(blob, 'version_hash', 'version_hash');
      ctx.tell(DOWNLOADS, { LocalDownload: { package_id: pkg, download_from, desired_version_hash } });
      return json(200, 'Success');
    }
    case '/apps/:id/install': {
      const pkg = packageIdParam(params);
      const hash = bodyField(blob, 'version_hash', 'version_hash');
      try {
        await ctx.install(pkg, hash);
      } catch (e) {
        return text(503, (e as Error).message);
      }
      return text(201, '');
    }
    case '/downloads/:id/mirror': {
      const pkg = packageIdParam(params);
      if (method !== 'PUT' && method !== 'DELETE') return wrongMethod();
      await downloads({ [method === 'PUT' ? 'StartMirroring' : 'StopMirroring']: pkg });
      return text(200, '');
    }
    case '/downloads/:id/remove': {
      const pkg = packageIdParam(params);
      const version_hash = bodyField(blob, 'version_hash', 'version_hash');
      await downloads({ RemoveFile: { package_id: pkg, version_hash } });
      return text(200, '');
    }
    case '/apps/:id/auto-update': {
      const pkg = packageIdParam(params);
      if (method !== 'PUT' && method !== 'DELETE') return wrongMethod();
      const { json: msg } = await ctx.ask(CHAIN, { [method === 'PUT' ? 'StartAutoUpdate' : 'StopAutoUpdate']: pkg });
      return json(200, msg);
    }
    case '/updates':
      return json(200, ctx.updates());
    case '/updates/:id/clear': {
      const pkg = packageIdString(packageIdParam(params));
      if (method !== 'POST') return wrongMethod();
      await ctx.clearUpdates(pkg);
      return text(200, '');
    }
    case '/reset': {
      if (method !== 'POST') return wrongMethod();
      const { json: msg } = await ctx.ask(CHAIN, 'Reset');
      return text(msg === 'ResetOk' ? 200 : 500, '');
    }
    case '/mirrorcheck/:id/:node': {
      if (method !== 'GET') return wrongMethod();
      const node = params.node;
      if (!node) return text(400, 'Missing node');
      let pkg: PackageIdJson;
      try {
        pkg = packageIdParam(params);
      } catch {
        return text(400, `Invalid package_id: ${params.id}`);
      }
      try {
        await ctx.ask(DOWNLOADS, { MirrorCheck: pkg }, 5, node);
      } catch (e) {
        const offline = /offline/i.test((e as Error).message);
        return json(200, { node, is_online: false, error: offline ? `node ${node} is offline` : `node ${node} timed out` });
      }
      return json(200, { node, is_online: true, error: null });
    }
  }
  return text(404, `no such App Store path: ${path}`);
}
