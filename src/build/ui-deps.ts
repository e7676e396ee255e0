// A UI's npm dependencies: `npm install` when ui/node_modules is missing or stale, with a
// content-keyed copy of node_modules kept under $KIT_CACHE/ui-node-modules. The key is the
// dependency lists of package.json plus the locked versions of package-lock.json (the package's
// own name left out), so every `kit new --ui` package, whatever its name, shares one install:
// the second one costs a copy instead of a download. Without a package-lock.json nothing is cached.

import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { KIT_CACHE } from '../core/cache.js';
import { StepFailedError, ToolchainError } from './errors.js';
import { run, tail } from './exec.js';
import { hashValue } from './hash.js';

export function defaultUiDepsCacheDir(): string {
  return join(KIT_CACHE, 'ui-node-modules');
}

/** Whether `npm install` has to run: no node_modules, or a dependency of package.json missing from it. */
export function npmInstallNeeded(dir: string): boolean {
  // npm writes node_modules/.package-lock.json on every install.
  const hidden = join(dir, 'node_modules', '.package-lock.json');
  if (!existsSync(hidden)) return true;
  try {
    const installed = JSON.parse(readFileSync(hidden, 'utf8')).packages ?? {};
    const wanted = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const deps = { ...(wanted.dependencies ?? {}), ...(wanted.devDependencies ?? {}) };
    return Object.keys(deps).some((name) => !installed[`node_modules/${name}`]);
  } catch {
    return true;
  }
}

/** The cache key of a UI's dependencies, or undefined when it has no package-lock.json. */
export function uiDepsKey(dir: string): string | undefined {
  const lockPath = join(dir, 'package-lock.json');
  if (!existsSync(lockPath)) return undefined;
  try {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const lock = JSON.parse(readFileSync(lockPath, 'utf8'));
    const { '': _root, ...locked } = lock.packages ?? {};
    return hashValue({
      node: process.versions.node.split('.')[0],
      platform: `${process.platform}-${process.arch}`,
      deps: pkg.dependencies ?? {},
      dev: pkg.devDependencies ?? {},
      optional: pkg.optionalDependencies ?? {},
      locked,
    });
  } catch {
    return undefined;
  }
}

export interface UiDepsResult {
  /** What happened: nothing needed, copied from the cache, or installed with npm. */
  how: 'present' | 'cached' | 'installed';
}

/** Make sure `dir`/node_modules holds the UI's dependencies. */
export async function ensureUiDeps(opts: { name: string; dir: string; verbose: boolean; cacheDir?: string }): Promise<UiDepsResult> {
  if (!npmInstallNeeded(opts.dir)) return { how: 'present' };
  const key = uiDepsKey(opts.dir);
  const cached = key ? join(opts.cacheDir ?? defaultUiDepsCacheDir(), key, 'node_modules') : undefined;
  const target = join(opts.dir, 'node_modules');
  if (cached && existsSync(cached) && !existsSync(target)) {
    // verbatimSymlinks keeps node_modules/.bin's relative links pointing inside the copy.
    cpSync(cached, target, { recursive: true, verbatimSymlinks: true });
    if (!npmInstallNeeded(opts.dir)) return { how: 'cached' };
  }
  const res = await run('npm', ['install', '--no-audit', '--no-fund'], { cwd: opts.dir, verbose: opts.verbose });
  if (res.missing) throw new ToolchainError(`UI ${opts.name} needs npm, which is not installed.`, 'Install Node.js 20+ with npm, or pass --no-ui.');
  if (res.code !== 0) throw new StepFailedError(`UI ${opts.name}: npm install failed:\n${tail(res.output)}`);
  // npm may have written the lock file just now: key again.
  const newKey = uiDepsKey(opts.dir);
  if (newKey) {
    const slot = join(opts.cacheDir ?? defaultUiDepsCacheDir(), newKey);
    if (!existsSync(join(slot, 'node_modules'))) {
      // Copied aside, then renamed into place, so a concurrent build never sees half a cache entry.
      const tmp = `${slot}.tmp-${process.pid}`;
      try {
        rmSync(tmp, { recursive: true, force: true });
        mkdirSync(tmp, { recursive: true });
        cpSync(target, join(tmp, 'node_modules'), { recursive: true, verbatimSymlinks: true });
        mkdirSync(slot, { recursive: true });
        renameSync(join(tmp, 'node_modules'), join(slot, 'node_modules'));
      } catch {
        // A cache that cannot be written only costs the next build an npm install.
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    }
  }
  return { how: 'installed' };
}
