// `kit update` and the update notice: the installed version against the newest on the npm
// registry, for the package named in kit's package.json (@hyperware-kit/kit: "kit" on npm is
// another project). A registry entry counts as this kit only if its manifest is this kit's (an
// oclif CLI named `kit` exporting `./process`); anything else is never offered.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isKitManifest } from '../build/paths.js';
import { KitError } from '../cli/errors.js';
import { KIT_CACHE } from '../core/cache.js';

/** kit's install folder (the one with package.json). */
export const KIT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export interface KitPackage {
  name: string;
  version: string;
}

export function installedPackage(root = KIT_ROOT): KitPackage {
  const pjson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as KitPackage;
  return { name: pjson.name, version: pjson.version };
}

/** KIT_UPDATE_REGISTRY, else npm's configured registry (npm_config_registry), else the public one. */
export function registryUrl(env: NodeJS.ProcessEnv = process.env): string {
  return (env.KIT_UPDATE_REGISTRY ?? env.npm_config_registry ?? 'https://registry.npmjs.org').replace(/\/+$/, '');
}

/** -1, 0 or 1 comparing x.y.z versions (a pre-release sorts before its release). */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const [core = '', pre] = v.replace(/^v/, '').split('-', 2);
    return { nums: core.split('.').map((n) => Number.parseInt(n, 10) || 0), pre };
  };
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < 3; i++) {
    const d = (x.nums[i] ?? 0) - (y.nums[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  if (x.pre === y.pre) return 0;
  if (x.pre === undefined) return 1;
  if (y.pre === undefined) return -1;
  return x.pre < y.pre ? -1 : 1;
}

export type LatestResult =
  | { kind: 'found'; version: string }
  | { kind: 'not-published'; status: number }
  | { kind: 'other-project'; version: string }
  | { kind: 'unreachable'; reason: string };

/** The newest published version of `name` that is this kit; never throws. */
export async function fetchLatest(name: string, opts: { registry?: string; timeoutMs?: number } = {}): Promise<LatestResult> {
  const registry = opts.registry ?? registryUrl();
  const url = `${registry}/${name.startsWith('@') ? `@${encodeURIComponent(name.slice(1))}` : encodeURIComponent(name)}/latest`;
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000), headers: { accept: 'application/json' } });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code;
    return { kind: 'unreachable', reason: cause ?? (e as Error).message };
  }
  if (res.status === 404) return { kind: 'not-published', status: 404 };
  if (!res.ok) return { kind: 'unreachable', reason: `HTTP ${res.status}` };
  let manifest: { version?: string; oclif?: { bin?: string }; exports?: Record<string, unknown> };
  try {
    manifest = (await res.json()) as typeof manifest;
  } catch {
    return { kind: 'unreachable', reason: 'the registry answered with something that is not JSON' };
  }
  if (typeof manifest.version !== 'string') return { kind: 'unreachable', reason: 'the registry answer has no version' };
  if (!isKitManifest(manifest)) return { kind: 'other-project', version: manifest.version };
  return { kind: 'found', version: manifest.version };
}

export interface UpdateStatus {
  name: string;
  installed: string;
  registry: string;
  latest: string;
  newer: boolean;
}

/** Installed vs newest; a clear KitError when the registry cannot say. */
export async function checkForUpdate(opts: { registry?: string } = {}): Promise<UpdateStatus> {
  const { name, version } = installedPackage();
  const registry = opts.registry ?? registryUrl();
  const latest = await fetchLatest(name, { registry });
  switch (latest.kind) {
    case 'found':
      return { name, installed: version, registry, latest: latest.version, newer: compareVersions(latest.version, version) > 0 };
    case 'not-published':
      throw new KitError(`kit ${version} is installed; ${registry} has no package named "${name}" (HTTP 404), so there is nothing to update from there`, {
        hint: 'update kit from where you installed it (e.g. `git pull && npm install && npm run build` in a source checkout), or point KIT_UPDATE_REGISTRY at your registry',
      });
    case 'other-project':
      throw new KitError(
        `kit ${version} is installed; the package "${name}" on ${registry} (version ${latest.version}) is a different project, not this kit, so kit will not update from it`,
        { hint: 'update kit from where you installed it, or point KIT_UPDATE_REGISTRY at the registry that publishes this kit' },
      );
    case 'unreachable':
      throw new KitError(`kit ${version} is installed; could not reach the npm registry at ${registry} (${latest.reason})`, {
        hint: 'check your network (or npm_config_registry / KIT_UPDATE_REGISTRY) and try again',
      });
  }
}

export type InstallKind = { kind: 'global'; prefix: string } | { kind: 'project'; dir: string } | { kind: 'checkout'; dir: string };

/** How this kit was installed: globally by npm, into a project's node_modules, or a source checkout. */
export async function installKind(root = KIT_ROOT): Promise<InstallKind> {
  const parent = dirname(root);
  if (basename(parent) !== 'node_modules' && !basename(dirname(parent)).startsWith('node_modules')) return { kind: 'checkout', dir: root };
  const modules = basename(parent) === 'node_modules' ? parent : dirname(parent);
  const { execa } = await import('execa');
  const globalRoot = await execa('npm', ['root', '-g'], { reject: false });
  if (globalRoot.exitCode === 0 && resolve(String(globalRoot.stdout).trim()) === resolve(modules)) return { kind: 'global', prefix: modules };
  return { kind: 'project', dir: dirname(modules) };
}

/**
 * The dependencies whose install scripts kit needs (package.json `allowScripts`, the entries set to
 * true). npm 11 reads that field only in a project's own package.json, so a global install names
 * them with --allow-scripts, as README's install line does.
 */
export function scriptsToAllow(root = KIT_ROOT): string[] {
  const pjson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { allowScripts?: Record<string, boolean> };
  return Object.entries(pjson.allowScripts ?? {})
    .filter(([, allowed]) => allowed === true)
    .map(([name]) => name);
}

/** Whether this npm has install-script approvals (npm 11): older ones warn about --allow-scripts. */
export async function npmHasAllowScripts(): Promise<boolean> {
  const { execa } = await import('execa');
  const r = await execa('npm', ['install-scripts', '--help'], { reject: false });
  return r.exitCode === 0;
}

/** The npm command that installs `version` the way this kit is installed. */
export function npmInstallArgs(name: string, version: string, kind: InstallKind, extra: string[] = [], allowScripts: string[] = []): string[] {
  const global = kind.kind === 'global';
  const allow = global && allowScripts.length > 0 ? [`--allow-scripts=${allowScripts.join(',')}`] : [];
  return ['install', ...(global ? ['-g'] : []), ...allow, `${name}@${version}`, ...extra];
}

// --- the update notice ------------------------------------------------------------------------

export const NOTICE_CACHE_FILE = 'update-check.json';
const NOTICE_MAX_AGE_MS = 24 * 60 * 60 * 1000;

interface NoticeCache {
  checkedAt: number;
  registry: string;
  latest?: string;
}

function noticeCachePath(): string {
  return join(KIT_CACHE, NOTICE_CACHE_FILE);
}

/** KIT_UPDATE_NOTIFIER=1 forces the notice on, =0 (or NO_UPDATE_NOTIFIER, CI, no terminal) turns it off. */
export function noticeEnabled(env: NodeJS.ProcessEnv = process.env, isTTY = Boolean(process.stderr.isTTY)): boolean {
  if (env.KIT_UPDATE_NOTIFIER === '1') return true;
  if (env.KIT_UPDATE_NOTIFIER === '0' || env.NO_UPDATE_NOTIFIER) return false;
  if (env.CI && env.CI !== 'false') return false;
  return isTTY;
}

export function readNoticeCache(): NoticeCache | undefined {
  try {
    return JSON.parse(readFileSync(noticeCachePath(), 'utf8')) as NoticeCache;
  } catch {
    return undefined;
  }
}

/** Ask the registry (short timeout) and remember the answer; used by the background refresher. */
export async function refreshNoticeCache(): Promise<void> {
  const registry = registryUrl();
  const { name } = installedPackage();
  const r = await fetchLatest(name, { registry, timeoutMs: 3000 });
  const cache: NoticeCache = { checkedAt: Date.now(), registry, latest: r.kind === 'found' ? r.version : undefined };
  mkdirSync(KIT_CACHE, { recursive: true });
  writeFileSync(noticeCachePath(), `${JSON.stringify(cache)}\n`);
}

/**
 * The notice to print for this run from what the cache knows (undefined: nothing to say), and
 * whether the cache should be refreshed in the background. Never touches the network.
 */
export function noticeFromCache(installed: string, now = Date.now()): { notice?: string; refresh: boolean } {
  const cache = readNoticeCache();
  const registry = registryUrl();
  const fresh = cache !== undefined && cache.registry === registry && now - cache.checkedAt < NOTICE_MAX_AGE_MS;
  const latest = cache?.registry === registry ? cache.latest : undefined;
  const notice =
    latest && compareVersions(latest, installed) > 0
      ? `kit ${latest} is available (you have ${installed}): run \`kit update\` to update. (Turn this notice off with KIT_UPDATE_NOTIFIER=0.)`
      : undefined;
  return { notice, refresh: !fresh };
}

/** The script the background refresher runs (compiled next to this file). */
export function refresherScript(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const script = join(here, 'refresh.js');
  return existsSync(script) ? script : join(here, 'refresh.ts');
}
