// `kit reset-cache` (interop §9.4): empty kit's cache folder. The book says it "won't hurt", so
// what running kit processes still use is kept: the record and leases of a chain kit started that
// is still running (without them no later node finds that chain, and nobody stops it), and the
// record of a live `kit connect` tunnel. Everything else is made again when it is next needed:
// components and transpiled components (a running node transpiles again on its next start of a
// process), fetched APIs, the chain's saved state, compiled contracts, logs.

import { readdir, rm, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { chainDir, liveLeases, readSharedAnvil } from '../chain/lease.js';
import { KitError } from '../cli/errors.js';
import { connectDir, readRecord } from '../connect/index.js';
import { KIT_CACHE } from '../core/cache.js';
import { isPidAlive } from '../pid.js';

export interface ResetCacheResult {
  dir: string;
  /** How many entries were removed. */
  removed: number;
  /** Paths (relative to dir) kept because a running process uses them. */
  kept: string[];
}

/** The entries (relative paths) of `dir` that a running kit process still uses. */
async function liveEntries(dir: string): Promise<Set<string>> {
  const live = new Set<string>();
  for (const name of await readdir(join(dir, 'chain')).catch(() => [] as string[])) {
    const port = Number(/^port-(\d+)$/.exec(name)?.[1]);
    if (!port || resolve(chainDir(port)) !== join(dir, 'chain', name)) continue;
    if (readSharedAnvil(port) || liveLeases(port).length > 0) live.add(`chain/${name}`);
  }
  for (const name of await readdir(connectDir(dir)).catch(() => [] as string[])) {
    const port = Number(/^(\d+)\.json$/.exec(name)?.[1]);
    const record = port ? readRecord(port, dir) : undefined;
    if (record && isPidAlive(record.pid)) live.add(`connect/${name}`);
  }
  return live;
}

/** Remove everything in `path` except the live entries under it; returns how many entries went. */
async function removeExcept(root: string, rel: string, live: Set<string>): Promise<number> {
  const path = join(root, rel);
  const inside = [...live].some((l) => l.startsWith(`${rel}/`));
  if (!inside) {
    await rm(path, { recursive: true, force: true });
    return 1;
  }
  let removed = 0;
  for (const name of await readdir(path)) {
    const child = `${rel}/${name}`;
    if (!live.has(child)) removed += await removeExcept(root, child, live);
  }
  return removed;
}

/** Empty kit's cache folder (the folder stays), keeping what running kit processes use. */
export async function resetCache(cacheDir: string = KIT_CACHE): Promise<ResetCacheResult> {
  const dir = resolve(cacheDir);
  if (dir === sep || dir === resolve(process.env.HOME ?? sep)) {
    throw new KitError(`refusing to empty ${dir}: KIT_CACHE points at a folder that is not a cache`, {
      hint: 'unset KIT_CACHE or point it at a dedicated folder',
    });
  }
  let names: string[];
  try {
    if (!(await stat(dir)).isDirectory()) throw new KitError(`${dir} (KIT_CACHE) is not a folder`);
    names = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { dir, removed: 0, kept: [] };
    throw e;
  }
  const live = await liveEntries(dir);
  let removed = 0;
  for (const name of names) removed += await removeExcept(dir, name, live);
  return { dir, removed, kept: [...live].sort() };
}
