// state:distro:sys — per-process state on disk, one file per process under `<home>/state/`. The
// kernel uses the store directly for get/set/clear-state; as on Hyperdrive (hyperdrive/src/state.rs,
// lib/src/state.rs) processes of distro:sys and terminal:sys may also message it with StateAction
// JSON: GetState / SetState / DeleteState (a process id each) and Backup, which copies the kernel's
// persisted data (the process map and every process's state) to `<home>/kernel/backup/`, replacing
// the last backup. Requests from anyone else are ignored.

import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromUtf8, type KernelMessage, systemProcess } from '../../core/types.js';
import type { KernelApi, NativeProcess } from '../kernel/api.js';
import type { StateStore } from '../kernel/kernel.js';
import { ioErrorText } from './os-error.js';

const STATE_DIR = 'state';
const BACKUP_DIR = join('kernel', 'backup');

export class FileStateStore implements StateStore {
  readonly dir: string;

  constructor(readonly home: string) {
    this.dir = join(home, STATE_DIR);
    mkdirSync(this.dir, { recursive: true });
  }

  // Process IDs contain ':'; keep file names portable.
  private file(id: string): string {
    return join(this.dir, `${encodeURIComponent(id)}.bin`);
  }

  get(id: string): Uint8Array | undefined {
    try {
      return new Uint8Array(readFileSync(this.file(id)));
    } catch {
      return undefined;
    }
  }

  set(id: string, bytes: Uint8Array): void {
    const f = this.file(id);
    writeFileSync(`${f}.tmp`, bytes);
    renameSync(`${f}.tmp`, f);
  }

  delete(id: string): void {
    rmSync(this.file(id), { force: true });
  }

  /** Copy the kernel's persisted data (kernel/ but the backup itself, state/) to kernel/backup/. */
  backup(): void {
    const target = join(this.home, BACKUP_DIR);
    rmSync(target, { recursive: true, force: true });
    const staging = `${target}.tmp`;
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    const kernelDir = join(this.home, 'kernel');
    if (existsSync(kernelDir))
      for (const entry of readdirSync(kernelDir))
        if (entry !== 'backup' && entry !== 'backup.tmp') cpSync(join(kernelDir, entry), join(staging, entry), { recursive: true });
    cpSync(this.dir, join(staging, STATE_DIR), { recursive: true });
    renameSync(staging, target);
  }
}

/** A ProcessId as Hyperdrive's serde reads it: "process:package:publisher", three non-empty parts. */
function processIdString(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const parts = v.split(':');
  return parts.length === 3 && parts.every((p) => p !== '') ? v : undefined;
}

type StateAction = { GetState: string } | { SetState: string } | { DeleteState: string } | 'Backup';

/** StateAction as serde reads it; a string saying why not otherwise. */
function parseAction(body: Uint8Array): StateAction | string {
  let v: unknown;
  try {
    v = JSON.parse(fromUtf8(body));
  } catch (e) {
    return (e as Error).message;
  }
  if (v === 'Backup') return 'Backup';
  if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1) {
    const [tag, arg] = Object.entries(v as Record<string, unknown>)[0];
    if (tag === 'Backup' && arg === null) return 'Backup';
    if (tag === 'GetState' || tag === 'SetState' || tag === 'DeleteState') {
      const id = processIdString(arg);
      if (id !== undefined) return { [tag]: id } as StateAction;
      return `${tag} takes a process id "process:package:publisher", got ${JSON.stringify(arg)}`;
    }
  }
  return `expected {"GetState"|"SetState"|"DeleteState": "process:package:publisher"} or "Backup", got ${fromUtf8(body).slice(0, 100)}`;
}

export function createStateModule(store: FileStateStore): NativeProcess {
  let kernel: KernelApi;
  const id = systemProcess('state');
  return {
    id,
    start(k) {
      kernel = k;
    },
    handle(km: KernelMessage) {
      if (km.message.tag !== 'request') return;
      const src = km.source.process;
      if (km.source.node !== kernel.our || !((src.packageName === 'distro' || src.packageName === 'terminal') && src.publisherNode === 'sys')) {
        kernel.print(1, `state: got request from ${km.source.node}@${src.processName}:${src.packageName}:${src.publisherNode}, but requests must come from kernel or terminal`);
        return;
      }
      const req = km.message.val;
      // Errors always go back (state.rs); successes to a caller that awaits them, with its metadata.
      const fail = (err: unknown) => kernel.respond(id, km, JSON.stringify({ Err: err }));
      const ok = (body: string, bytes?: Uint8Array) => {
        if (req.expectsResponse === undefined && km.rsvp === undefined) return;
        kernel.respond(id, km, body, bytes && { mime: 'application/octet-stream', bytes }, req.metadata);
      };
      const action = parseAction(req.body);
      if (typeof action === 'string' && action !== 'Backup') {
        fail({ BadJson: { error: `parse into StateAction failed: ${action}` } });
        return;
      }
      if (action === 'Backup') {
        try {
          store.backup();
        } catch (e) {
          fail({ IOError: { error: ioErrorText(e) } });
          return;
        }
        ok('"Backup"');
      } else if ('GetState' in action) {
        const bytes = store.get(action.GetState);
        if (bytes) ok('"GetState"', bytes);
        else fail({ NotFound: { process_id: action.GetState } });
      } else if ('SetState' in action) {
        if (!km.lazyLoadBlob) {
          fail({ BadBytes: { action: 'SetState' } });
          return;
        }
        store.set(action.SetState, km.lazyLoadBlob.bytes);
        ok('"SetState"');
      } else {
        store.delete(action.DeleteState);
        ok('"DeleteState"');
      }
    },
  };
}
