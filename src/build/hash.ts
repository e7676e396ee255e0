// Content hashing for incremental builds: an input counts as changed when its bytes change,
// never because of a touched mtime.

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** sha256 of a file's bytes, or undefined when it cannot be read (missing, a directory). */
export function hashFile(path: string): string | undefined {
  try {
    return sha256(readFileSync(path));
  } catch {
    return undefined;
  }
}

/** Folders that are build output or installed dependencies, never sources. */
export const SKIP_DIRS = new Set(['node_modules', 'target', 'dist', '.git', 'process_env', '__pycache__']);

/** Every file under `dir` (absolute paths, sorted), skipping `skip` folder names. */
export function listFiles(dir: string, skip: ReadonlySet<string> = SKIP_DIRS): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        if (!skip.has(e.name)) walk(p);
      } else if (e.isFile()) out.push(p);
      else if (e.isSymbolicLink()) {
        try {
          const st = statSync(p);
          if (st.isDirectory()) {
            if (!skip.has(e.name)) walk(p);
          } else out.push(p);
        } catch {
          // a dangling link is not an input
        }
      }
    }
  };
  walk(dir);
  return out.sort();
}

/** path -> sha256 (missing files map to "missing", so their disappearance is a change too). */
export function hashFiles(paths: Iterable<string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of [...new Set(paths)].sort()) out[p] = hashFile(p) ?? 'missing';
  return out;
}

/** One hash over a JSON-able value with sorted object keys, for fingerprints. */
export function hashValue(value: unknown): string {
  return sha256(stableStringify(value));
}

function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableStringify(obj[k])}`).join(',')}}`;
}
