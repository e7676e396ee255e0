// Turn one bundled JavaScript module into a Wasm component of world `process-v1` with
// componentize-js (StarlingMonkey inside; about 5-13 s and 780 MB of RSS per build), plus a
// content-hash cache so tests build each fixture once.
//
// Default features: `stdio`, `random` and `clocks` stay ON, `http` and `fetch-event` are OFF.
// - random/clocks: without them Math.random() and Date.now() are frozen at their build-time
//   (wizer snapshot) values, which no user expects.
// - stdio: without it an uncaught exception leaves no trace: the guest just traps on
//   `unreachable`. With it, StarlingMonkey writes the message and JS stack to stderr, which the
//   process host captures and reports as the root cause (as Hyperdrive does), and console.log
//   reaches the terminal.
// The process host provides these WASI imports itself (src/runtime/process/wasi.ts) at no extra
// thread per process; the measured cost against a "pure" build is in the host's notes.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, type Logger } from '../core/log.js';
import { isPidAlive } from '../pid.js';
import { componentTools } from './paths.js';

export type ComponentizeFeature = 'stdio' | 'random' | 'clocks' | 'http' | 'fetch-event';

/** What a process does not get unless it asks: outbound fetch() and the HTTP-server export. */
export const DEFAULT_DISABLED_FEATURES: readonly ComponentizeFeature[] = ['http', 'fetch-event'];

export interface ComponentizeJsOptions {
  /** A single ES module (bundle it first if it imports packages). */
  sourcePath: string;
  /** WIT file or folder. */
  witPath: string;
  worldName: string;
  /** Where to write the component; its folder is created. */
  outPath: string;
  disableFeatures?: readonly ComponentizeFeature[];
  log?: Logger;
}

export class ComponentizeError extends Error {
  override name = 'ComponentizeError';
  constructor(
    message: string,
    readonly sourcePath: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

// One componentize at a time per process: each needs ~780 MB and a whole core.
let queue: Promise<unknown> = Promise.resolve();
function serialized<T>(fn: () => Promise<T>): Promise<T> {
  const run = queue.then(fn, fn);
  queue = run.catch(() => undefined);
  return run;
}

let preopensReady: Promise<void> | undefined;
// componentize-js reads the WIT through a jco-transpiled splicer that sees the disk only via
// preview2-shim's preopens; preview2-shim 0.26 has none by default (0.17 maps "/").
export function ensurePreopens(): Promise<void> {
  preopensReady ??= (async () => {
    try {
      const fs = (await import('@bytecodealliance/preview2-shim/filesystem' as string)) as {
        _setPreopens?: (p: Record<string, string>) => void;
      };
      fs._setPreopens?.({ '/': '/' });
    } catch {
      // older or newer shims without the helper keep their defaults
    }
  })();
  return preopensReady;
}

export async function componentizeJs(opts: ComponentizeJsOptions): Promise<{ bytes: Uint8Array; ms: number }> {
  const sourcePath = resolve(opts.sourcePath);
  const witPath = resolve(opts.witPath);
  if (!existsSync(sourcePath)) throw new ComponentizeError(`componentize: no file at ${sourcePath}`, sourcePath);
  if (!existsSync(witPath)) throw new ComponentizeError(`componentize: no WIT at ${witPath}`, sourcePath);
  const log = opts.log ?? createLogger({ target: 'kit::build' });
  return serialized(async () => {
    await ensurePreopens();
    const { componentize } = await import('@bytecodealliance/componentize-js');
    const t0 = performance.now();
    let component: Uint8Array;
    try {
      ({ component } = await componentize({
        sourcePath,
        witPath,
        worldName: opts.worldName,
        disableFeatures: [...(opts.disableFeatures ?? DEFAULT_DISABLED_FEATURES)],
      }));
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw new ComponentizeError(
        `componentize ${basename(sourcePath)} (world ${opts.worldName}) failed: ${why.trim()}\n` +
          'Check that the module exports the world\'s functions and imports only "hyperware:process/standard@1.0.0" ' +
          'or relative files.',
        sourcePath,
        { cause: e },
      );
    }
    const ms = performance.now() - t0;
    mkdirSync(dirname(resolve(opts.outPath)), { recursive: true });
    writeAtomic(resolve(opts.outPath), component);
    log.info(`componentize ${basename(sourcePath)}: ${(ms / 1000).toFixed(1)} s, ${(component.length / 1e6).toFixed(2)} MB`, {
      ms: Math.round(ms),
      bytes: component.length,
    });
    return { bytes: component, ms };
  });
}

function writeAtomic(path: string, bytes: Uint8Array): void {
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
}

// ---------------------------------------------------------------------------
// Fixture cache

/** The repository root: the nearest folder upwards that holds wit/hyperware.wit. */
export function repoRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (;;) {
    if (existsSync(join(dir, 'wit', 'hyperware.wit')) && existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`no wit/hyperware.wit above ${from}`);
    dir = up;
  }
}

function witFiles(witPath: string): string[] {
  if (!statSync(witPath).isDirectory()) return [witPath];
  return readdirSync(witPath, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.wit'))
    .sort()
    .map((f) => join(witPath, f));
}

/** sha256 over the source, every WIT file, the features and the tools' versions (componentTools). */
export function fixtureHash(sourcePath: string, witPath: string, features: readonly string[], tools: string): string {
  const h = createHash('sha256');
  h.update(readFileSync(sourcePath));
  for (const f of witFiles(witPath)) h.update('\0').update(readFileSync(f));
  h.update(`\0${[...features].sort().join(',')}\0${tools}`);
  return h.digest('hex');
}

export interface BuildFixtureOptions {
  /** Default: the repo's wit/ folder. */
  witPath?: string;
  worldName?: string;
  disableFeatures?: readonly ComponentizeFeature[];
  /** Default: <repo>/test/.cache/components. */
  cacheDir?: string;
  log?: Logger;
}

/**
 * The component for a test fixture, built once: cached as `<cacheDir>/<sha256>.wasm` where the
 * hash covers source and WIT. Safe to call from parallel test processes (a lock folder makes
 * them take turns, so only one componentize runs on the machine at a time).
 */
export async function buildFixture(sourcePath: string, opts: BuildFixtureOptions = {}): Promise<Uint8Array> {
  const root = repoRoot();
  const witPath = opts.witPath ?? join(root, 'wit');
  const disable = opts.disableFeatures ?? DEFAULT_DISABLED_FEATURES;
  const cacheDir = opts.cacheDir ?? join(root, 'test', '.cache', 'components');
  const hash = fixtureHash(sourcePath, witPath, disable, componentTools());
  const out = join(cacheDir, `${hash}.wasm`);
  if (existsSync(out)) return new Uint8Array(readFileSync(out));
  mkdirSync(cacheDir, { recursive: true });
  const release = await acquireLock(join(cacheDir, '.lock'));
  try {
    if (existsSync(out)) return new Uint8Array(readFileSync(out));
    const { bytes } = await componentizeJs({
      sourcePath,
      witPath,
      worldName: opts.worldName ?? 'process-v1',
      outPath: out,
      disableFeatures: disable,
      log: opts.log ?? createLogger({ target: 'kit::test-fixture', file: null }),
    });
    return bytes;
  } finally {
    release();
  }
}

/** A lock folder (mkdir is atomic) holding the owner's pid; a dead owner's lock is taken over. */
async function acquireLock(lockDir: string, timeoutMs = 10 * 60_000): Promise<() => void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(join(lockDir, 'pid'), String(process.pid));
      return () => rmSync(lockDir, { recursive: true, force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let owner = Number.NaN;
    try {
      owner = Number(readFileSync(join(lockDir, 'pid'), 'utf8'));
    } catch {
      // the owner has not written its pid yet
    }
    const orphaned = Number.isNaN(owner) && ageMs(lockDir) > 60_000; // owner died before writing its pid
    if (orphaned || (Number.isInteger(owner) && owner > 0 && !isPidAlive(owner))) {
      rmSync(lockDir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for the build lock ${lockDir}; remove it if no build is running`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function ageMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

