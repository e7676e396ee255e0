// VFS paths: `/<package>:<publisher>/<drive>/<rest...>` mapped onto `<home>/vfs/...`, read as
// Hyperdrive reads them (hyperdrive/src/vfs.rs parse_package_and_drive, normalize_relative_path):
// empty and `.` segments vanish, `..` steps up and may not step out of the VFS root, fewer than
// two segments or a first segment that is not a package id is MalformedRequest. Beyond Hyperdrive,
// a symlink is never followed out of its drive.

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

/** The segments of `raw` below the VFS root with `.`, `..` and empty ones resolved; MalformedRequest if it leaves the root. */
export function normalizeSegments(raw: string): string[] {
  const out: string[] = [];
  for (const s of raw.split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..') {
      if (out.length === 0) throw vfsErr.malformed();
      out.pop();
    } else out.push(s);
  }
  return out;
}

/** Hyperdrive's PackageId::from_str: exactly two non-empty parts around one ':'. */
function isPackageId(s: string): boolean {
  const parts = s.split(':');
  return parts.length === 2 && parts[0] !== '' && parts[1] !== '';
}

export function parseVfsPath(root: string, raw: string): VfsPath {
  const segments = normalizeSegments(raw);
  if (segments.length < 2 || !isPackageId(segments[0])) throw vfsErr.malformed();
  const [packageId, drive, ...rest] = segments;
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

export function inside(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}

/** The real path of the nearest part of `abs` that exists; a dangling symlink on the way is refused. */
async function nearestReal(abs: string, vfs: string): Promise<string> {
  let p = abs;
  for (;;) {
    try {
      return await realpath(p);
    } catch (e) {
      if (code(e) !== 'ENOENT') throw vfsErr.io(code(e) ?? (e as Error).message);
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
  if (p.abs.includes('\0')) throw vfsErr.io('file name contained an unexpected NUL byte');
  let bound = realRoot;
  try {
    bound = await realpath(p.driveAbs);
  } catch {
    // no drive yet: the VFS root bounds it
  }
  const real = await nearestReal(p.abs, p.vfs);
  if (!inside(real, bound)) throw vfsErr.parse(p.vfs, `path resolves outside its drive ${p.drivePath} (kit's node follows no symlink out of a drive)`);
}
