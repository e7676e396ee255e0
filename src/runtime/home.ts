// What boot may do with the folder --home names. A node without --persist deletes its home on
// exit, so kit must never adopt a folder that holds anything but a node home: a typo'd --home
// (or `-o .`) would otherwise take the user's files with it. As in the real kit, an existing node
// home is used as it is (the book: boot with --persist, stop, boot again with the same --home).

import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isPidAlive } from '../pid.js';

/** Marks a home in use by a running node: two nodes in one home share keys and state, and the first to stop deletes it. */
const LOCK_FILE = '.kit-node.lock';
/** Homes held by nodes of this process (a lock with our own pid is stale unless listed here). */
const held = new Set<string>();

export class HomeError extends Error {
  override name = 'HomeError';
}

export interface PreparedHome {
  /** This boot created the folder. */
  created: boolean;
  /** The folder was there but empty. */
  wasEmpty: boolean;
  /** It holds a process map from an earlier run: restore those processes. */
  persisted: boolean;
}

/** Throws HomeError if a running node holds the home; else takes it for `name`. */
function lockHome(home: string, name: string): void {
  const lock = join(home, LOCK_FILE);
  if (existsSync(lock)) {
    let owner: { pid?: number; name?: string } = {};
    try {
      owner = JSON.parse(readFileSync(lock, 'utf8'));
    } catch {}
    const pid = owner.pid ?? 0;
    const running = pid === process.pid ? held.has(home) : pid > 0 && isPidAlive(pid);
    if (running)
      throw new HomeError(
        `home ${home} is in use by the running node ${owner.name ?? '?'} (pid ${pid}): two nodes cannot share a home. Pass each node its own --home (-o), e.g. -o /tmp/hyperware-fake-node-2.`,
      );
  }
  writeFileSync(lock, JSON.stringify({ pid: process.pid, name }));
  held.add(home);
}

/** Give the home back (a --persist home stays, without the lock). */
export function unlockHome(home: string): void {
  held.delete(home);
  rmSync(join(home, LOCK_FILE), { force: true });
}

/** Marks of a node home: ours (.net-key.json, kernel/) or Hyperdrive's (.keys, kernel/). */
function isNodeHome(home: string): boolean {
  return existsSync(join(home, 'vfs')) && ['.net-key.json', '.keys', 'kernel'].some((m) => existsSync(join(home, m)));
}

/** Checks, creates and locks the home; throws HomeError for a path that is not a folder kit may use. */
export function prepareHome(home: string, name: string): PreparedHome {
  if (existsSync(home)) {
    if (!statSync(home).isDirectory()) throw new HomeError(`home ${home} is a file, not a folder: pass a new folder with --home`);
    const wasEmpty = readdirSync(home).length === 0;
    if (!wasEmpty && !isNodeHome(home))
      throw new HomeError(
        `home ${home} is not empty and is not a node home: kit deletes a fake node's home when it stops (unless --persist), so it will not use this folder. Pass a new or empty folder (or an earlier node's home) with --home.`,
      );
    lockHome(home, name);
    mkdirSync(join(home, 'vfs'), { recursive: true });
    return { created: false, wasEmpty, persisted: existsSync(join(home, 'kernel', 'process_map.json')) };
  }
  mkdirSync(join(home, 'vfs'), { recursive: true });
  lockHome(home, name);
  return { created: true, wasEmpty: true, persisted: false };
}

/** Undo prepareHome after a failed boot: a folder this boot created goes, an empty one is emptied again. */
export function discardFreshHome(home: string, prepared: PreparedHome): void {
  unlockHome(home);
  if (prepared.created) rmSync(home, { recursive: true, force: true });
  else if (prepared.wasEmpty) for (const entry of readdirSync(home)) rmSync(join(home, entry), { recursive: true, force: true });
}
