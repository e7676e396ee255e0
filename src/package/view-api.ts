// `kit view-api` (interop §9.1): list the APIs a node's App Store holds, or fetch one package's
// api.zip, unpack it into kit's cache and return its WIT files.

import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { unzipSync } from 'fflate';
import { KitError } from '../cli/errors.js';
import { makeMessage, type RpcResponse, sendMessage } from '../node-client/rpc.js';
import { KIT_CACHE } from '../core/cache.js';
import { APP_STORE_PROCESS, AppStoreError } from './start.js';
import { downloadApi, getApiZip } from './store.js';

/** kit asks the App Store with this response timeout (seconds), as the real kit does. */
const VIEW_API_TIMEOUT_SECS = 5;

export class ViewApiError extends KitError {
  override name = 'ViewApiError';
}

export interface ApiFile {
  /** Path as kit prints it: inside the cache folder the API was unpacked to. */
  path: string;
  text: string;
}

/** `package:publisher` split on the first `:`, as kit does. */
export function splitPackageId(id: string): { packageName: string; publisher: string } {
  const i = id.indexOf(':');
  if (i <= 0 || i === id.length - 1) {
    throw new ViewApiError(`package_id must be None or Some(<package>:<publisher>); got "${id}"`, {
      hint: 'name the package as package:publisher, e.g. app-store:sys',
    });
  }
  return { packageName: id.slice(0, i), publisher: id.slice(i + 1) };
}

/** Every installed package with an API, as `package:publisher` strings. */
export async function listApis(url: string): Promise<string[]> {
  const answer = await ask(url, '"Apis"');
  const apis = (answer.json as { ApisResponse?: { apis?: unknown } })?.ApisResponse?.apis;
  if (!Array.isArray(apis)) {
    throw new AppStoreError(`unexpected answer to Apis from the node: ${answer.text.slice(0, 500)}`);
  }
  return apis.map((a) => {
    if (typeof a === 'string') return a;
    const p = a as { package_name?: unknown; publisher_node?: unknown };
    return `${p.package_name}:${p.publisher_node}`;
  });
}

export interface GetApiOptions {
  url: string;
  packageId: string;
  /** Another node to download the API from when ours lacks it (needs networking). */
  downloadFrom?: string;
  /** Where `<package:publisher>-api/` is made; default kit's cache folder. */
  cacheDir?: string;
  /** Told what is done beyond asking (an install a real node needs before it serves the API). */
  note?: (text: string) => void;
}

/** Fetch one package's API zip with GetApi, unpack it to `<cache>/<id>-api/`, return its .wit files. */
export async function getApi(opts: GetApiOptions): Promise<ApiFile[]> {
  const { packageName, publisher } = splitPackageId(opts.packageId);
  const id = `${packageName}:${publisher}`;
  let answer = await getApiZip(opts.url, id, VIEW_API_TIMEOUT_SECS);
  // Not here: download the published version from that node into ours, then ask again.
  if (!answer.zip && opts.downloadFrom !== undefined) answer = await downloadApi({ url: opts.url, packageId: id, downloadFrom: opts.downloadFrom, note: opts.note });
  if (!answer.zip) {
    throw new ViewApiError(`the node at ${opts.url} has no API for ${id} (it answered ${answer.answer}).`, {
      hint: 'is the package installed there with an api/ folder? `kit view-api` lists the APIs the node has',
    });
  }
  const dir = join(resolve(opts.cacheDir ?? KIT_CACHE), `${id}-api`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(answer.zip);
  } catch (e) {
    throw new ViewApiError(`the API of ${id} from the node is not a readable zip: ${(e as Error).message}`, { cause: e });
  }
  const files: ApiFile[] = [];
  for (const [name, bytes] of Object.entries(entries)) {
    if (name.endsWith('/')) continue;
    const out = resolve(dir, name);
    if (!out.startsWith(dir + sep)) continue; // a zip entry may not climb out of the cache folder
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, bytes);
    if (name.endsWith('.wit')) files.push({ path: out, text: Buffer.from(bytes).toString('utf8') });
  }
  return files.sort((a, b) => a.path.localeCompare(b.path));
}

/** kit's text for one API: every file as `<path>\n\n<contents>`. */
export function formatApiFiles(files: ApiFile[]): string {
  return files.map((f) => `${f.path}\n\n${f.text}`).join('\n');
}

interface Answer {
  text: string;
  json: unknown;
  blob?: Uint8Array;
}

async function ask(url: string, body: string): Promise<Answer> {
  const res = (await sendMessage(
    url,
    makeMessage({ process: APP_STORE_PROCESS, body, expectsResponse: VIEW_API_TIMEOUT_SECS }),
  )) as RpcResponse | null;
  if (!res) throw new AppStoreError(`the node's App Store sent no answer to ${body}`);
  let json: unknown;
  try {
    json = JSON.parse(res.body);
  } catch {
    json = undefined;
  }
  return { text: res.body, json, blob: res.blob };
}
