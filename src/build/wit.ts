// The WIT folder processes are built against (`target/wit/`): hyperware.wit plus the package's
// own `api/*.wit` and its dependencies' APIs, all in one WIT package (API files carry no `package`
// line, so they join hyperware:process@1.0.0 and can `include process-v1`).

import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { KIT_CACHE } from '../core/cache.js';
import { WitError } from './errors.js';
import { hashValue, listFiles } from './hash.js';
import { loadJco } from './jco.js';
import { hyperwareWitPath, packageVersion } from './paths.js';

export const DEFAULT_WORLD = 'process-v1';

/** One WIT file going into target/wit: its name there, its text, and where it came from (for errors). */
export interface WitFile {
  name: string;
  text: string;
  origin: string;
}

/** `api/*.wit` of a package folder, sorted by name. */
export function readApiWits(packageDir: string, originBase = packageDir): WitFile[] {
  const apiDir = join(packageDir, 'api');
  if (!existsSync(apiDir)) return [];
  return readdirSync(apiDir)
    .filter((f) => f.endsWith('.wit'))
    .sort()
    .map((name) => {
      const path = join(apiDir, name);
      return { name, text: readFileSync(path, 'utf8'), origin: relative(originBase, path) || path };
    });
}

export function hyperwareWit(): WitFile {
  return { name: 'hyperware.wit', text: readFileSync(hyperwareWitPath(), 'utf8'), origin: hyperwareWitPath() };
}

/** A hash of everything in the WIT folder, part of every process's build key. */
export function witHash(files: WitFile[]): string {
  return hashValue(files.map((f) => [f.name, f.text]));
}

/**
 * Makes `target/wit/` hold exactly `files`, rewriting only what differs (so its mtimes stay put on
 * a build where nothing changed). Two files with one name is an error: say which.
 */
export function writeWitDir(witDir: string, files: WitFile[]): void {
  const seen = new Map<string, WitFile>();
  for (const f of files) {
    const prev = seen.get(f.name);
    if (prev && prev.text !== f.text)
      throw new WitError(`two different WIT files are both named ${f.name}: ${prev.origin} and ${f.origin}.`, 'Rename one of them; every API file must have a unique name (<package>:<publisher>-v<N>.wit).');
    seen.set(f.name, f);
  }
  mkdirSync(witDir, { recursive: true });
  for (const name of readdirSync(witDir)) if (!seen.has(name)) rmSync(join(witDir, name), { recursive: true, force: true });
  for (const f of seen.values()) {
    const path = join(witDir, f.name);
    if (!existsSync(path) || readFileSync(path, 'utf8') !== f.text) writeFileSync(path, f.text);
  }
}

/** World names declared in a WIT text, with whether each directly includes process-v1. */
export function worldsIn(text: string): Array<{ name: string; process: boolean }> {
  const out: Array<{ name: string; process: boolean }> = [];
  const stripped = text.replace(/\/\/[^\n]*/g, '').replace(/\/\*[\s\S]*?\*\//g, '');
  const re = /\bworld\s+([^\s{]+)\s*\{([^}]*)\}/g;
  for (let m = re.exec(stripped); m; m = re.exec(stripped)) {
    out.push({ name: m[1], process: /\binclude\s+(?:hyperware:process\/)?process-v1\b/.test(m[2]) });
  }
  return out;
}

export interface WorldChoice {
  world: string;
  /** Why this world: 'flag', 'api', or 'default'. */
  source: 'flag' | 'api' | 'default';
  warning?: string;
}

/**
 * `--world` if given; else the process world the package's own API declares (one that includes
 * process-v1, preferring the conventional `<package>-<publisher with . -> -dot->-v<N>` name when
 * there are several); else `process-v1`.
 */
export function chooseWorld(flag: string | undefined, ownApi: WitFile[], packageName: string, publisher: string): WorldChoice {
  if (flag) return { world: flag, source: 'flag' };
  const worlds = ownApi.flatMap((f) => worldsIn(f.text)).filter((w) => w.process);
  if (worlds.length === 1) return { world: worlds[0].name, source: 'api' };
  if (worlds.length === 0) return { world: DEFAULT_WORLD, source: 'default' };
  const prefix = `${packageName}-${publisher.replaceAll('.', '-dot-')}-v`;
  const conventional = worlds
    .map((w) => ({ w, v: w.name.startsWith(prefix) ? Number(w.name.slice(prefix.length)) : Number.NaN }))
    .filter((x) => Number.isInteger(x.v))
    .sort((a, b) => b.v - a.v);
  if (conventional.length > 0) return { world: conventional[0].w.name, source: 'api' };
  return {
    world: DEFAULT_WORLD,
    source: 'default',
    warning: `Found ${worlds.length} process worlds in api/ (${worlds.map((w) => w.name).join(', ')}); defaulting to ${DEFAULT_WORLD}. Pick one with -w/--world.`,
  };
}

async function parseError(jco: Awaited<ReturnType<typeof loadJco>>, source: string): Promise<string | undefined> {
  try {
    await jco.componentEmbed({ dummy: true, witSource: source, world: DEFAULT_WORLD });
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * Where in `file` the WIT error is. wit-parser's messages from jco carry no position, so: a name
 * the message quotes is looked up in the file; a syntax error is found by parsing ever longer
 * prefixes of the file (a left-to-right parser gives the same error for any prefix that reaches it).
 */
async function locate(jco: Awaited<ReturnType<typeof loadJco>>, base: string, file: WitFile, message: string): Promise<number | undefined> {
  const lines = file.text.split('\n');
  const quoted = /`([^`]+)`/.exec(message)?.[1];
  if (quoted && !/^expected|found/.test(message)) {
    const word = new RegExp(`(^|[^a-z0-9-])${quoted.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^a-z0-9-])`);
    const i = lines.findIndex((l) => word.test(l.replace(/\/\/.*$/, '')));
    if (i >= 0) return i + 1;
  }
  let lo = 1;
  let hi = lines.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((await parseError(jco, `${base}\n${lines.slice(0, mid).join('\n')}`)) === message) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Checks that `target/wit` parses and declares `world`. On failure the error names the file (where
 * it came from: api/x.wit or a dependency) and line, with wit-parser's message.
 */
export async function validateWit(witDir: string, files: WitFile[], world: string): Promise<void> {
  const declared = files.flatMap((f) => worldsIn(f.text).map((w) => w.name));
  if (!declared.includes(world))
    throw new WitError(
      `WIT world \`${world}\` not found in ${witDir} (worlds there: ${declared.join(', ') || 'none'}).`,
      'Declare it in api/<package>:<publisher>-v0.wit or pass an existing one with -w/--world.',
    );
  const jco = await loadJco();
  try {
    await jco.componentEmbed({ dummy: true, witPath: witDir, world });
    return;
  } catch (e) {
    const dirMessage = (e as Error).message;
    const hw = files.find((f) => f.name === 'hyperware.wit');
    const base = hw?.text ?? '';
    for (const f of files) {
      if (f === hw) continue;
      const message = await parseError(jco, `${base}\n${f.text}`);
      if (message === undefined) continue;
      const line = await locate(jco, base, f, message);
      throw new WitError(`${f.origin}${line ? `:${line}` : ''}: WIT error: ${message}`, 'Fix the WIT file; the package API must parse together with hyperware.wit.');
    }
    throw new WitError(`the WIT in ${witDir} does not parse: ${dirMessage}`, 'Check the api/*.wit files and those of the dependencies.');
  }
}

/**
 * TypeScript declarations for a world's imports as a guest sees them (`declare module
 * 'hyperware:process/standard@1.0.0'` and any API interfaces), written to `outDir`.
 * Returns the .d.ts paths.
 */
export async function writeGuestTypes(witDir: string, world: string, outDir: string): Promise<string[]> {
  const jco = await loadJco();
  const files = await jco.types(witDir, { guest: true, worldName: world, name: world });
  rmSync(outDir, { recursive: true, force: true });
  const out: string[] = [];
  for (const [name, bytes] of Object.entries(files)) {
    const path = join(outDir, name);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, bytes);
    out.push(path);
  }
  return out.sort();
}

// What jco says about a WIT folder depends only on its content and the world: kept in
// $KIT_CACHE/wit, so that a fresh checkout of a package (or another package from the same
// template) neither validates its WIT nor generates its guest types again (loading jco's
// wasm-tools alone takes about a second).

function witCacheKey(world: string, wHash: string): string {
  return hashValue({ world, wHash, jco: packageVersion('@bytecodealliance/jco') }).slice(0, 32);
}

/** validateWit, once per WIT content and world on this machine. */
export async function validateWitOnce(witDir: string, files: WitFile[], world: string, wHash: string): Promise<void> {
  const mark = join(KIT_CACHE, 'wit', 'valid', witCacheKey(world, wHash));
  if (existsSync(mark)) return;
  await validateWit(witDir, files, world);
  try {
    mkdirSync(join(mark, '..'), { recursive: true });
    writeFileSync(mark, `${world}\n`);
  } catch {
    // only a shortcut for next time
  }
}

/** writeGuestTypes into `outDir`, made again only when the WIT or the world changed. */
export async function guestTypesOnce(witDir: string, world: string, wHash: string, outDir: string): Promise<string[]> {
  const key = witCacheKey(world, wHash);
  const stamp = `${outDir}.key`;
  const list = () =>
    listFiles(outDir, new Set())
      .filter((f) => f.endsWith('.d.ts'))
      .sort();
  if (existsSync(stamp) && existsSync(outDir) && readFileSync(stamp, 'utf8') === key) return list();
  const cached = join(KIT_CACHE, 'wit', 'types', key);
  rmSync(outDir, { recursive: true, force: true });
  if (existsSync(cached)) cpSync(cached, outDir, { recursive: true });
  else {
    await writeGuestTypes(witDir, world, outDir);
    try {
      const tmp = `${cached}.${process.pid}.tmp`;
      cpSync(outDir, tmp, { recursive: true });
      renameSync(tmp, cached);
    } catch {
      // another build stored the same types first, or the cache is not writable
    }
  }
  writeFileSync(stamp, key);
  return list();
}
