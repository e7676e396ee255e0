// Editor support for a package's TypeScript/JavaScript processes: the tsconfig.json (jsconfig.json)
// that `kit new` writes maps `kit/process` to `.kit/kit/...`, and `.kit/kit` is a link to this
// kit's own folder, so tsc and editors find the process library's types and the guest globals with
// nothing installed in the package. `kit new` makes the link and `kit build` mends it (kit moved
// or updated, a fresh clone: `.kit/` is not committed).

import { lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { kitRoot } from '../build/paths.js';

/** The folder, inside a package, that holds the link to kit. */
export const EDITOR_LINK = join('.kit', 'kit');

function usesLink(packageDir: string): boolean {
  for (const name of ['tsconfig.json', 'jsconfig.json']) {
    try {
      if (readFileSync(join(packageDir, name), 'utf8').includes('.kit/kit/')) return true;
    } catch {
      // no such config
    }
  }
  return false;
}

/**
 * Make `<packageDir>/.kit/kit` point at this kit, if the package's tsconfig.json or jsconfig.json
 * uses it. Returns whether the link is in place; never throws (editors are a convenience, builds
 * must not fail over them).
 */
export function linkKitForEditors(packageDir: string, root: string = kitRoot()): boolean {
  if (!usesLink(packageDir)) return false;
  const link = join(packageDir, EDITOR_LINK);
  try {
    try {
      if (lstatSync(link).isSymbolicLink() && resolve(packageDir, '.kit', readlinkSync(link)) === resolve(root)) return true;
      rmSync(link, { recursive: true, force: true });
    } catch {
      // not there yet
    }
    mkdirSync(join(packageDir, '.kit'), { recursive: true });
    symlinkSync(root, link, process.platform === 'win32' ? 'junction' : 'dir');
    return true;
  } catch {
    return false;
  }
}
