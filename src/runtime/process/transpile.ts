// jco output cached on disk by the component's sha256: `<cacheDir>/jco-<version>/<sha>/` holds
// the glue (glue.js, plus glue.v8cache once a worker has run it), the core modules and meta.json. A component is transpiled once per
// machine; parallel hosts (test files run in parallel) race safely because each writes a
// private folder and renames it into place. meta.json records the sha256 of the glue and of
// each core module, checked on every load: a damaged entry is moved aside and transpiled again.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../core/log.js';
import type { WasiMode } from './protocol.js';
import { wasiLiteCovers } from './wasi.js';

/** The jco glue as a classic script (see transpile-worker.ts), and V8's code cache for it. */
export const GLUE_NAME = 'glue.js';
export const GLUE_CACHE_NAME = 'glue.v8cache';

export interface Transpiled {
  sha256: string;
  dir: string;
  gluePath: string;
  /** Core module file names, as the glue asks for them. */
  coreFiles: string[];
  /** What the component imports (jco's import specifiers). */
  imports: string[];
  wasi: WasiMode;
}

interface Meta {
  imports: string[];
  coreFiles: string[];
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
   * The transpiled component, from disk or made now. Nothing is remembered past the transpile
   * itself: each start reads meta.json again, so a cache emptied under a running node
   * (`kit reset-cache`) is filled again on the next start instead of pointing at deleted files.
   */
  get(sha256: string, wasm: Uint8Array): Promise<Transpiled> {
    let p = this.inflight.get(sha256);
    if (!p) {
      p = this.load(sha256, wasm);
      this.inflight.set(sha256, p);
      const forget = () => this.inflight.delete(sha256);
      p.then(forget, forget);
    }
    return p;
  }

  private async load(sha256: string, wasm: Uint8Array): Promise<Transpiled> {
    const dir = join(this.root, sha256);
    const cached = this.read(sha256, dir);
    if (cached && !('damage' in cached)) return cached;
    mkdirSync(this.root, { recursive: true });
    if (cached) {
      this.log?.warning(`the transpiled component in ${dir} is damaged (${cached.damage}): transpiling it again`);
      // Moved aside, not deleted in place: another host may be reading it right now.
      const aside = join(this.root, `.damaged-${sha256}.${process.pid}.${Math.random().toString(36).slice(2)}`);
      try {
        renameSync(dir, aside);
        rmSync(aside, { recursive: true, force: true });
      } catch (e) {
        if (existsSync(dir))
          throw new TranspileError(`the transpiled component in ${dir} is damaged (${cached.damage}) and could not be replaced: ${(e as Error).message}; run \`kit reset-cache\``);
      }
    }
    const tmp = join(this.root, `.${sha256}.${process.pid}.${Math.random().toString(36).slice(2)}`);
    try {
      const meta = await runTranspile(wasm, tmp);
      const files: Record<string, string> = {};
      for (const name of [GLUE_NAME, ...meta.coreFiles]) files[name] = sha256Hex(readFileSync(join(tmp, name)));
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
    const made = this.read(sha256, dir);
    if (!made) throw new TranspileError(`transpiled component ${sha256} vanished from ${dir}`);
    if ('damage' in made)
      throw new TranspileError(`the component transpiled just now into ${dir} reads back damaged (${made.damage}): is the disk full? run \`kit reset-cache\``);
    return made;
  }

  /** The entry in `dir`: undefined when there is none, `{damage}` when it is there but not whole. */
  private read(sha256: string, dir: string): Transpiled | { damage: string } | undefined {
    if (!existsSync(dir)) return undefined;
    let meta: Meta;
    try {
      meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as Meta;
    } catch (e) {
      return { damage: `meta.json: ${(e as Error).message}` };
    }
    if (!meta || !Array.isArray(meta.coreFiles) || !Array.isArray(meta.imports) || !meta.files) return { damage: 'meta.json is incomplete' };
    for (const name of [GLUE_NAME, ...meta.coreFiles]) {
      let actual: string;
      try {
        actual = sha256Hex(readFileSync(join(dir, name)));
      } catch {
        return { damage: `${name} is missing` };
      }
      if (actual !== meta.files[name]) return { damage: `${name} does not match its recorded sha256` };
    }
    return {
      sha256,
      dir,
      gluePath: join(dir, GLUE_NAME),
      coreFiles: meta.coreFiles,
      imports: meta.imports,
      wasi: wasiModeFor(meta.imports),
    };
  }
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
