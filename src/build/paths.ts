// Where kit's own build inputs live: the process library bundled into every TS/JS process, the
// hyperware WIT, and the versions of the tools whose output we cache.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/**
 * Whether a package.json (or a registry manifest) is this kit's: an oclif CLI whose bin is `kit`
 * and that exports `./process`. Its npm name is not the test: "kit" on npm is another project.
 */
export function isKitManifest(manifest: { oclif?: { bin?: string }; exports?: Record<string, unknown> } | undefined): boolean {
  return manifest?.oclif?.bin === 'kit' && manifest.exports?.['./process'] !== undefined;
}

/** kit's installation root (the folder holding its package.json). */
export function kitRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        if (isKitManifest(JSON.parse(readFileSync(pj, 'utf8')))) {
          root = dir;
          return dir;
        }
      } catch {
        // keep walking
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find kit's package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** The compiled process library that `kit/process` resolves to in process bundles. */
export function processLibEntry(): string {
  return join(kitRoot(), 'dist', 'src', 'process-lib', 'index.js');
}

export function processLibDir(): string {
  return dirname(processLibEntry());
}

/** hyperware.wit v1.0.0 (package hyperware:process@1.0.0), shipped with kit instead of downloaded. */
export function hyperwareWitPath(): string {
  return join(kitRoot(), 'wit', 'hyperware.wit');
}

/** API WIT files of system packages kit ships (e.g. the tester's), used by `kit build` for dependencies. */
export function shippedApiDir(): string {
  // Not under wit/: componentize reads wit/ as one WIT package folder, and a `deps/` there must hold packages.
  return join(kitRoot(), 'apis');
}

const versions = new Map<string, string>();

/** The installed version of an npm package kit depends on (its package.json may not be exported). */
export function packageVersion(name: string): string {
  const cached = versions.get(name);
  if (cached) return cached;
  let version = 'unknown';
  try {
    let dir = dirname(fileURLToPath(import.meta.resolve(name)));
    for (;;) {
      const pj = join(dir, 'package.json');
      if (existsSync(pj)) {
        const parsed = JSON.parse(readFileSync(pj, 'utf8'));
        if (parsed.name === name) {
          version = String(parsed.version);
          break;
        }
      }
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  } catch {
    // not installed: 'unknown' still keys the cache, and the build step itself will report it
  }
  versions.set(name, version);
  return version;
}

/**
 * The tools that make a component, as `name@version` words: componentize-js, and jco, whose
 * wit-component wraps every component kit makes (JS, Rust and development builds). A new version
 * of either gives other bytes, so every cache of components is keyed by this.
 */
export function componentTools(): string {
  return ['@bytecodealliance/componentize-js', '@bytecodealliance/jco'].map((name) => `${name}@${packageVersion(name)}`).join(' ');
}
