// jco output cached on disk. jco's glue depends on a component's shape (its types, imports,
// exports and core modules' code), not on the data its core modules hold, and the core modules
// it emits are the component's own, byte for byte. So the glue is kept by the component's
// *shape*: `<cacheDir>/jco-<version>/shape-<hash>/` holds glue.js (plus glue.v8cache once a
// worker has run it) and meta.json, and the core modules are taken from the component itself.
// Two JS processes of one world, or two `kit watch` builds of one process, share one transpile.
// A component whose emitted modules are not its own (none seen so far) is kept whole by its
// sha256 in `<sha>/`, with its core modules. Parallel hosts (test files run in parallel) race
// safely because each writes a private folder and renames it into place. meta.json records the
// sha256 of the glue and of each stored core module, checked on every load: a damaged entry is
// moved aside and transpiled again.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../core/log.js';
import { isComponentBinary, sections } from '../../core/wasm-binary.js';
import { codeHash } from './memory-image.js';
import type { WasiMode } from './protocol.js';
import { wasiLiteCovers } from './wasi.js';

/** The jco glue as a classic script (see transpile-worker.ts), and V8's code cache for it. */
export const GLUE_NAME = 'glue.js';
export const GLUE_CACHE_NAME = 'glue.v8cache';

export interface CoreModule {
  /** The file name the glue asks for. */
  name: string;
  bytes(): Uint8Array;
  /** memory-image.ts's codeHash of it, when already known. */
  codeHash?: string;
}

export interface Transpiled {
  sha256: string;
  /** Where the glue (and its V8 code cache) is. */
  dir: string;
  gluePath: string;
  /** The core modules, in the glue's order. */
  cores: CoreModule[];
  /** What the component imports (jco's import specifiers). */
  imports: string[];
  wasi: WasiMode;
}

interface Meta {
  imports: string[];
  coreFiles: string[];
  /** True: the core files are the component's own core modules, in order, and not stored. */
  fromComponent?: boolean;
  ms: number;
  /** sha256 of glue.js and of each core module, when they were written. */
  files?: Record<string, string>;
}

/** The layout of an entry; entries of an older layout (no `files` in meta.json) are not read. */
const LAYOUT = 'v2';

export class TranspileError extends Error {
  override name = 'TranspileError';
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

let jcoVersion: string | undefined;
function currentJcoVersion(): string {
  if (!jcoVersion) {
    try {
      const req = createRequire(import.meta.url);
      const pkgPath = join(req.resolve('@bytecodealliance/jco').replace(/dist[/\\]api\.js$/, ''), 'package.json');
      jcoVersion = (JSON.parse(readFileSync(pkgPath, 'utf8')) as { version: string }).version;
    } catch {
      jcoVersion = 'unknown';
    }
  }
  return jcoVersion;
}

/** Which WASI provider a component needs, from its import list. */
export function wasiModeFor(imports: string[]): WasiMode {
  const wasi = imports.filter((i) => i.startsWith('wasi:'));
  if (wasi.length === 0) return 'none';
  return wasi.every(wasiLiteCovers) ? 'lite' : 'shim';
}

export class TranspileCache {
  private readonly root: string;
  private readonly inflight = new Map<string, Promise<Transpiled>>();

  constructor(
    cacheDir: string,
    private readonly log?: Logger,
  ) {
    this.root = join(cacheDir, `jco-${currentJcoVersion()}-${LAYOUT}`);
  }

  /**
   * The transpiled component, from memory, disk or made now. The latest few stay in memory; one
   * whose folder is gone (`kit reset-cache` under a running node) is made again instead of
   * pointing at deleted files.
   */
  async get(sha256: string, wasm: Uint8Array): Promise<Transpiled> {
    const known = this.inflight.get(sha256);
    if (known) {
      const t = await known.catch(() => undefined);
      if (t && existsSync(t.gluePath)) return t;
      if (this.inflight.get(sha256) === known) this.inflight.delete(sha256);
    }
    let p = this.inflight.get(sha256);
    if (!p) {
      p = this.load(sha256, wasm);
      this.inflight.set(sha256, p);
      // only the latest few components stay: each holds its component's bytes (12 MB for JS)
      p.then(
        () => this.forgetOld(),
        () => this.inflight.delete(sha256),
      );
    }
    return p;
  }

  private forgetOld(): void {
    while (this.inflight.size > 8) this.inflight.delete(this.inflight.keys().next().value as string);
  }

  private async load(sha256: string, wasm: Uint8Array): Promise<Transpiled> {
    const shape = componentShape(wasm);
    const byShape = shape && join(this.root, `shape-${shape.hash}`);
    const byHash = join(this.root, sha256);
    for (const candidate of byShape ? [byShape, byHash] : [byHash]) {
      const cached = this.read(sha256, candidate, shape);
      if (!cached) continue;
      if (!('damage' in cached)) return cached;
      this.discard(candidate, cached.damage);
    }
    mkdirSync(this.root, { recursive: true });
    const tmp = join(this.root, `.${sha256}.${process.pid}.${Math.random().toString(36).slice(2)}`);
    let dir = byHash;
    try {
      const meta = await runTranspile(wasm, tmp);
      if (shape && sameModules(tmp, meta.coreFiles, shape.modules)) {
        // Keep only the glue: the modules come from each component of this shape.
        for (const f of meta.coreFiles) rmSync(join(tmp, f));
        meta.fromComponent = true;
        dir = byShape!;
      }
      const files: Record<string, string> = {};
      for (const name of storedFiles(meta)) files[name] = sha256Hex(readFileSync(join(tmp, name)));
      writeFileSync(join(tmp, 'meta.json'), JSON.stringify({ ...meta, files }));
      try {
        renameSync(tmp, dir);
      } catch (e) {
        // another host got there first; its copy is as good as ours
        if (!existsSync(join(dir, 'meta.json'))) throw e;
      }
      this.log?.info(`transpiled component ${sha256.slice(0, 12)} in ${(meta.ms / 1000).toFixed(2)} s`, {
        sha256,
        ms: Math.round(meta.ms),
      });
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    const made = this.read(sha256, dir, shape);
    if (!made) throw new TranspileError(`transpiled component ${sha256} vanished from ${dir}`);
    if ('damage' in made)
      throw new TranspileError(`the component transpiled just now into ${dir} reads back damaged (${made.damage}): is the disk full? run \`kit reset-cache\``);
    return made;
  }

  /** A damaged entry, moved aside (not deleted in place: another host may be reading it right now). */
  private discard(dir: string, damage: string): void {
    this.log?.warning(`the transpiled component in ${dir} is damaged (${damage}): transpiling it again`);
    mkdirSync(this.root, { recursive: true });
    const aside = join(this.root, `.damaged-${basename(dir)}.${process.pid}.${Math.random().toString(36).slice(2)}`);
    try {
      renameSync(dir, aside);
      rmSync(aside, { recursive: true, force: true });
    } catch (e) {
      if (existsSync(dir))
        throw new TranspileError(`the transpiled component in ${dir} is damaged (${damage}) and could not be replaced: ${(e as Error).message}; run \`kit reset-cache\``);
    }
  }

  /** The entry in `dir`: undefined when there is none (or it is for another shape), `{damage}` when it is there but not whole. */
  private read(sha256: string, dir: string, shape?: { modules: Uint8Array[]; codeHashes: string[] }): Transpiled | { damage: string } | undefined {
    if (!existsSync(dir)) return undefined;
    let meta: Meta;
    try {
      meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as Meta;
    } catch (e) {
      return { damage: `meta.json: ${(e as Error).message}` };
    }
    if (!meta || !Array.isArray(meta.coreFiles) || !Array.isArray(meta.imports) || !meta.files) return { damage: 'meta.json is incomplete' };
    for (const name of storedFiles(meta)) {
      let actual: string;
      try {
        actual = sha256Hex(readFileSync(join(dir, name)));
      } catch {
        return { damage: `${name} is missing` };
      }
      if (actual !== meta.files[name]) return { damage: `${name} does not match its recorded sha256` };
    }
    let cores: CoreModule[];
    if (meta.fromComponent) {
      if (!shape || shape.modules.length !== meta.coreFiles.length) return undefined;
      cores = meta.coreFiles.map((name, i) => ({ name, bytes: () => shape.modules[i], codeHash: shape.codeHashes[i] }));
    } else cores = meta.coreFiles.map((name) => ({ name, bytes: () => new Uint8Array(readFileSync(join(dir, name))) }));
    return {
      sha256,
      dir,
      gluePath: join(dir, GLUE_NAME),
      cores,
      imports: meta.imports,
      wasi: wasiModeFor(meta.imports),
    };
  }
}

/**
 * A component's core modules and the hash of its shape: every top-level section but custom ones,
 * each core module by its code hash (memory-image.ts: without its data and its memories' initial
 * sizes, which is what a snapshot changes). Undefined for anything that is not a well-formed component.
 */
export function componentShape(wasm: Uint8Array): { hash: string; modules: Uint8Array[]; codeHashes: string[] } | undefined {
  if (!isComponentBinary(wasm)) return undefined;
  try {
    const h = createHash('sha256');
    const modules: Uint8Array[] = [];
    const codeHashes: string[] = [];
    for (const s of sections(wasm)) {
      if (s.id === 0) continue; // custom sections (producers, names) do not change the glue
      h.update(Uint8Array.of(s.id));
      if (s.id !== 1) {
        h.update(String(s.body.length)).update(s.body);
        continue;
      }
      const code = codeHash(s.body);
      modules.push(s.body);
      codeHashes.push(code);
      h.update(code);
    }
    return { hash: h.digest('hex').slice(0, 40), modules, codeHashes };
  } catch {
    return undefined;
  }
}

/** The files an entry stores: the glue, and the core modules unless they come from the component. */
function storedFiles(meta: Meta): string[] {
  return meta.fromComponent ? [GLUE_NAME] : [GLUE_NAME, ...meta.coreFiles];
}

function sameModules(dir: string, files: string[], modules: Uint8Array[]): boolean {
  if (files.length !== modules.length) return false;
  return files.every((f, i) => Buffer.from(readFileSync(join(dir, f))).equals(modules[i]));
}

function runTranspile(wasm: Uint8Array, outDir: string): Promise<Meta> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./transpile-worker.js', import.meta.url), {
      workerData: { wasm, outDir, glueName: GLUE_NAME },
    });
    let settled = false;
    worker.once('message', (m: ({ ok: true } & Meta) | { ok: false; message: string }) => {
      settled = true;
      void worker.terminate();
      if (m.ok) resolve({ imports: m.imports, coreFiles: m.coreFiles, ms: m.ms });
      else
        reject(
          new TranspileError(
            `jco could not transpile the component: ${m.message}\nIs it a Wasm component (not a core module) of world process-v1?`,
          ),
        );
    });
    worker.once('error', (e) => {
      if (!settled) reject(new TranspileError(`the transpile worker crashed: ${e.message}`));
      settled = true;
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new TranspileError(`the transpile worker exited with code ${code} before finishing`));
      settled = true;
    });
  });
}
