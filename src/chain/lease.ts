// A fake chain outlives the node that started it: anvil runs as its own process (its own session,
// so a Ctrl-C in the node's terminal does not reach it), recorded in KIT_CACHE/chain/port-<P>/
// anvil.json. Every kit user of the chain (a fake node, a run-tests run) holds a lease there, a
// file named after its pid; the last user to let go stops the anvil kit started. A lock folder
// orders "take a lease" against "let go and stop", so a node booting while the last other one
// stops either keeps the chain up or finds none and starts a new one.

import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KIT_CACHE } from '../core/cache.js';
import { isPidAlive } from '../pid.js';

export interface SharedAnvilRecord {
  pid: number;
  port: number;
  /** When it started (ISO). */
  started: string;
  /** Where its output goes. */
  log: string;
}

let leaseCounter = 0;

export function chainDir(port: number): string {
  return join(KIT_CACHE, 'chain', `port-${port}`);
}

function leasesDir(port: number): string {
  return join(chainDir(port), 'leases');
}

/** The anvil kit started on `port` and left running, if it is still there. */
export function readSharedAnvil(port: number): SharedAnvilRecord | undefined {
  const file = join(chainDir(port), 'anvil.json');
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as SharedAnvilRecord;
    if (typeof r.pid === 'number' && isAnvil(r.pid, port)) return r;
  } catch {
    return undefined;
  }
  rmSync(file, { force: true });
  return undefined;
}

export function writeSharedAnvil(record: SharedAnvilRecord): void {
  mkdirSync(chainDir(record.port), { recursive: true });
  const file = join(chainDir(record.port), 'anvil.json');
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`);
  renameSync(tmp, file);
}

/** pids of the live kit processes holding a lease on the chain at `port` (stale leases are removed). */
export function liveLeases(port: number): number[] {
  const dir = leasesDir(port);
  if (!existsSync(dir)) return [];
  const pids: number[] = [];
  for (const f of readdirSync(dir)) {
    const pid = Number(f.split('-')[0]);
    if (Number.isInteger(pid) && pid > 0 && isPidAlive(pid)) pids.push(pid);
    else rmSync(join(dir, f), { force: true });
  }
  return pids;
}

/** Take a lease on the chain at `port`; releaseLease(port, id) lets go of it. */
export async function takeLease(port: number): Promise<string> {
  return withLock(port, () => {
    mkdirSync(leasesDir(port), { recursive: true });
    const id = `${process.pid}-${++leaseCounter}`;
    writeFileSync(join(leasesDir(port), id), '');
    return id;
  });
}

/**
 * Let go of a lease. When no live lease is left, `whenLast` runs under the lock (it stops the
 * anvil kit started), so nobody takes a lease on a chain that is going away.
 */
export async function releaseLease(port: number, id: string, whenLast: () => Promise<void>): Promise<void> {
  await withLock(port, async () => {
    rmSync(join(leasesDir(port), id), { force: true });
    if (liveLeases(port).length === 0) await whenLast();
  });
}

/** Stop the anvil kit started on `port` (the pid in anvil.json, checked to be that anvil). */
export async function stopSharedAnvil(port: number): Promise<boolean> {
  const r = readSharedAnvil(port);
  if (!r) return false;
  try {
    process.kill(r.pid, 'SIGINT');
  } catch {
    // already gone
  }
  for (let i = 0; i < 100 && isPidAlive(r.pid); i++) await sleep(30);
  if (isPidAlive(r.pid)) {
    try {
      process.kill(r.pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
    for (let i = 0; i < 100 && isPidAlive(r.pid); i++) await sleep(10);
  }
  rmSync(join(chainDir(port), 'anvil.json'), { force: true });
  return true;
}

/** Whether `pid` is an anvil on `port` (Linux: its command line; elsewhere: that it is alive). */
function isAnvil(pid: number, port: number): boolean {
  if (!isPidAlive(pid)) return false;
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return /anvil$/.test(argv[0] ?? '') && argv.includes('--port') && argv[argv.indexOf('--port') + 1] === String(port);
  } catch {
    return process.platform !== 'linux';
  }
}

async function withLock<T>(port: number, fn: () => T | Promise<T>): Promise<T> {
  const lock = join(chainDir(port), 'lock');
  mkdirSync(chainDir(port), { recursive: true });
  for (let i = 0; ; i++) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      // A holder that died leaves its lock behind; anyone may clear it.
      const holder = Number(readFileSafe(join(lock, 'pid')));
      if ((holder > 0 && !isPidAlive(holder)) || i > 600) rmSync(lock, { recursive: true, force: true });
      else await sleep(25);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function readFileSafe(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
