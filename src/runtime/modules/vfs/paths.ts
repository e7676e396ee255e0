// VFS paths: `/<package>:<publisher>/<drive>/<rest...>` mapped onto `<home>/vfs/...`, with no way
// out of the drive (no `..`, and symlinks are resolved before anything is touched).

import { lstat, realpath } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { vfsErr } from './types.js';

export interface VfsPath {
  /** Normalised: `/pkg:pub/drive/rest` (no trailing '/'). */
  vfs: string;
  /** `pkg:pub` */
  packageId: string;
  drive: string;
  /** `/pkg:pub/drive`, the form drive capabilities name. */
  drivePath: string;
  /** Segments below the drive (empty for the drive itself). */
  rest: string[];
  /** Absolute path on disk. */
  abs: string;
  /** Absolute path of the drive folder on disk. */
  driveAbs: string;
}

export function parseVfsPath(root: string, raw: string): VfsPath {
  if (raw.includes('\0')) throw vfsErr.parse(raw, 'path contains a NUL byte');
  const trimmed = raw.replace(/^\/+/, '').replace(/\/+$/, '');
  const segments = trimmed.split('/');
  if (segments.some((s) => s === '')) throw vfsErr.parse(raw, 'path has an empty segment (//)');
  if (segments.some((s) => s === '.' || s === '..')) throw vfsErr.parse(raw, "path may not contain '.' or '..' segments");
  const [packageId, drive, ...rest] = segments;
  const parts = packageId.split(':');
  if (parts.length !== 2 || !parts[0] || !parts[1])
    throw vfsErr.parse(raw, `'${packageId}' is not a package ID: paths start with /<package>:<publisher>/<drive>`);
  if (!drive) throw vfsErr.parse(raw, 'path names no drive: expected /<package>:<publisher>/<drive>/...');
  const driveAbs = join(root, packageId, drive);
  return {
    vfs: `/${segments.join('/')}`,
    packageId,
    drive,
    drivePath: `/${packageId}/${drive}`,
    rest,
    abs: join(driveAbs, ...rest),
    driveAbs,
  };
}

function code(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException)?.code;
}

function inside(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}

/** The real path of the nearest part of `abs` that exists; a dangling symlink on the way is refused. */
async function nearestReal(abs: string, vfs: string): Promise<string> {
  let p = abs;
  for (;;) {
    try {
      return await realpath(p);
    } catch (e) {
      if (code(e) !== 'ENOENT') throw vfsErr.io(vfs, (e as Error).message);
      const isLink = await lstat(p).then(
        (s) => s.isSymbolicLink(),
        () => false,
      );
      if (isLink) throw vfsErr.parse(vfs, 'path goes through a symlink that points nowhere');
      const up = dirname(p);
      if (up === p) throw vfsErr.parse(vfs, 'path does not resolve');
      p = up;
    }
  }
}

/**
 * Refuse a path that resolves (through symlinks) outside its drive; when the drive does not
 * exist yet, outside the VFS root. `realRoot` is the real path of `<home>/vfs`.
 */
export async function confine(p: VfsPath, realRoot: string): Promise<void> {
  let bound = realRoot;
  try {
    bound = await realpath(p.driveAbs);
  } catch {
    // no drive yet: the VFS root bounds it
  }
  const real = await nearestReal(p.abs, p.vfs);
  if (!inside(real, bound)) throw vfsErr.parse(p.vfs, `path resolves outside its drive ${p.drivePath}`);
}
