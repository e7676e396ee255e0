// Components by content: componentize-js does not make the same bytes twice from the same source
// (the wizer snapshot holds random hash seeds and a random temp path), yet a package zip's
// sha256 must depend only on its sources. So every component kit makes is kept under a key over
// exactly what it was made from (bundled source, WIT, world, features, componentize-js version)
// and reused whenever those recur: a reverted edit, the same template in another folder, a
// branch switched back. Only the newest MAX_ENTRIES are kept (about 12 MB each).
// Each entry has its sha256 beside it (`<key>.sha256`): a truncated or damaged entry is found,
// dropped and built again, never put in a package zip.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KIT_CACHE } from '../core/cache.js';
import { BuildError } from './errors.js';

export const MAX_ENTRIES = 32;

export function defaultComponentCacheDir(): string {
  return join(KIT_CACHE, 'components');
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Whether `bytes` is a whole Wasm component: the component header, then sections whose declared
 * sizes end exactly at the end of the bytes (a truncated file fails this). Used for entries
 * written before the cache kept hashes.
 */
export function isWholeComponent(bytes: Uint8Array): boolean {
  const header = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];
  if (bytes.length < header.length || header.some((b, i) => bytes[i] !== b)) return false;
  let at = header.length;
  while (at < bytes.length) {
    at++; // section id
    let size = 0;
    let shift = 0;
    for (;;) {
      if (at >= bytes.length || shift > 28) return false;
      const b = bytes[at++];
      size += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if ((b & 0x80) === 0) break;
    }
    at += size;
  }
  return at === bytes.length;
}

export class ComponentCache {
  /** `warn` hears about damaged entries (they are dropped and built again). */
  constructor(
    readonly dir: string,
    private readonly warn: (message: string) => void = () => {},
  ) {}

  private path(key: string): string {
    return join(this.dir, `${key}.wasm`);
  }

  get(key: string): Uint8Array | undefined {
    const path = this.path(key);
    if (!existsSync(path)) return undefined;
    let bytes: Uint8Array;
    let expected: string | undefined;
    try {
      bytes = new Uint8Array(readFileSync(path));
      expected = existsSync(`${path.slice(0, -5)}.sha256`) ? readFileSync(`${path.slice(0, -5)}.sha256`, 'utf8').trim() : undefined;
    } catch {
      return undefined;
    }
    const damage =
      expected !== undefined
        ? sha256Hex(bytes) === expected
          ? undefined
          : 'its sha256 does not match the one recorded when it was made'
        : isWholeComponent(bytes)
          ? undefined
          : 'it is not a whole Wasm component (truncated?)';
    if (damage) {
      this.drop(key, damage);
      return undefined;
    }
    try {
      if (expected === undefined) writeFileSync(`${path.slice(0, -5)}.sha256`, `${sha256Hex(bytes)}\n`); // adopt an entry from before hashes
      const now = new Date();
      utimesSync(path, now, now); // recently used entries survive pruning
    } catch {
      // only pruning order and the adoption are lost
    }
    return bytes;
  }

  private drop(key: string, why: string): void {
    this.warn(`the cached component ${key.slice(0, 12)} in ${this.dir} is damaged (${why}): building it again`);
    try {
      rmSync(this.path(key), { force: true });
      rmSync(join(this.dir, `${key}.sha256`), { force: true });
    } catch (e) {
      throw new BuildError(
        `the cached component ${this.path(key)} is damaged (${why}) and could not be removed: ${(e as Error).message}`,
        'run `kit reset-cache`, then build again',
      );
    }
  }

  put(key: string, bytes: Uint8Array): void {
    try {
      mkdirSync(this.dir, { recursive: true });
      const tmp = `${this.path(key)}.${process.pid}.tmp`;
      writeFileSync(tmp, bytes);
      writeFileSync(join(this.dir, `${key}.sha256`), `${sha256Hex(bytes)}\n`);
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
    for (const { f } of entries.slice(MAX_ENTRIES)) {
      unlinkSync(join(this.dir, f));
      rmSync(join(this.dir, `${f.slice(0, -5)}.sha256`), { force: true });
    }
  }
}
