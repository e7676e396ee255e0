// Components by content: componentize-js does not make the same bytes twice from the same source
// (the wizer snapshot holds random hash seeds and a random temp path), yet a package zip's
// sha256 must depend only on its sources. So every component kit makes is kept under a key over
// exactly what it was made from (bundled source, WIT, world, features, componentize-js version)
// and reused whenever those recur: a reverted edit, the same template in another folder, a
// branch switched back. Only the newest MAX_ENTRIES are kept (about 12 MB each).

import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KIT_CACHE } from '../core/cache.js';

export const MAX_ENTRIES = 32;

export function defaultComponentCacheDir(): string {
  return join(KIT_CACHE, 'components');
}

export class ComponentCache {
  constructor(readonly dir: string) {}

  private path(key: string): string {
    return join(this.dir, `${key}.wasm`);
  }

  get(key: string): Uint8Array | undefined {
    const path = this.path(key);
    if (!existsSync(path)) return undefined;
    try {
      const bytes = new Uint8Array(readFileSync(path));
      const now = new Date();
      utimesSync(path, now, now); // recently used entries survive pruning
      return bytes;
    } catch {
      return undefined;
    }
  }

  put(key: string, bytes: Uint8Array): void {
    try {
      mkdirSync(this.dir, { recursive: true });
      const tmp = `${this.path(key)}.${process.pid}.tmp`;
      writeFileSync(tmp, bytes);
      renameSync(tmp, this.path(key));
      this.prune();
    } catch {
      // a cache that cannot be written only costs a later rebuild
    }
  }

  private prune(): void {
    const entries = readdirSync(this.dir)
      .filter((f) => f.endsWith('.wasm'))
      .map((f) => ({ f, t: statSync(join(this.dir, f)).mtimeMs }))
      .sort((a, b) => b.t - a.t);
    for (const { f } of entries.slice(MAX_ENTRIES)) unlinkSync(join(this.dir, f));
  }
}
