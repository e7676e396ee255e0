// The process's open-files limit (`ulimit -n`, the soft RLIMIT_NOFILE) that fd-manager's budget is
// a percentage of. Hyperdrive asks getrlimit; Node has no binding for it, so on Linux it is read
// from /proc/self/limits, which the kernel keeps current (a `prlimit` on the running node shows
// up at the next read). Elsewhere, or when unreadable, 1024: the usual default soft limit.

import { readFileSync } from 'node:fs';

export const FALLBACK_ULIMIT = 1024;
/** "unlimited" cannot really be had for open files on Linux; this is its default ceiling (fs.nr_open). */
export const UNLIMITED_ULIMIT = 1_048_576;

/** The soft "Max open files" limit from the text of /proc/<pid>/limits; undefined if absent. */
export function parseOpenFilesLimit(limitsText: string): number | undefined {
  for (const line of limitsText.split('\n')) {
    const m = /^Max open files\s+(\S+)/.exec(line);
    if (!m) continue;
    if (m[1] === 'unlimited') return UNLIMITED_ULIMIT;
    const n = Number(m[1]);
    return Number.isSafeInteger(n) && n > 0 ? n : undefined;
  }
  return undefined;
}

/** The soft open-files limit of this Node process, or FALLBACK_ULIMIT where it cannot be read. */
export function readOpenFilesLimit(limitsFile = '/proc/self/limits'): number {
  try {
    return parseOpenFilesLimit(readFileSync(limitsFile, 'utf8')) ?? FALLBACK_ULIMIT;
  } catch {
    return FALLBACK_ULIMIT;
  }
}
