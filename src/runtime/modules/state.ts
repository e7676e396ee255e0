// state:distro:sys — per-process state on disk, one file per process under `<home>/state/`.
// The kernel uses the store directly for get/set/clear-state; distro:sys processes may also
// message it with StateAction JSON (GetState / SetState / DeleteState).

import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KernelApi, NativeProcess } from '../kernel/api.js';
import type { StateStore } from '../kernel/kernel.js';
import { fromUtf8, type KernelMessage, systemProcess } from '../../core/types.js';

export class FileStateStore implements StateStore {
  private readonly dir: string;

  constructor(home: string) {
    this.dir = join(home, 'state');
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
}

export function createStateModule(store: StateStore): NativeProcess {
  let kernel: KernelApi;
  const id = systemProcess('state');
  return {
    id,
    start(k) {
      kernel = k;
    },
    handle(km: KernelMessage) {
      if (km.message.tag !== 'request' || km.source.node !== kernel.our) return;
      const pkg = `${km.source.process.packageName}:${km.source.process.publisherNode}`;
      if (pkg !== 'distro:sys' && pkg !== 'terminal:sys') return;
      let action: Record<string, string>;
      try {
        action = JSON.parse(fromUtf8(km.message.val.body));
      } catch {
        kernel.respond(id, km, JSON.stringify({ Err: { BadBytes: { action: 'parse' } } }));
        return;
      }
      if (action.GetState) {
        const bytes = store.get(action.GetState);
        if (bytes) kernel.respond(id, km, '"GetState"', { bytes });
        else kernel.respond(id, km, JSON.stringify({ Err: { NotFound: { process_id: action.GetState } } }));
      } else if (action.SetState) {
        if (km.lazyLoadBlob) store.set(action.SetState, km.lazyLoadBlob.bytes);
        kernel.respond(id, km, '"SetState"');
      } else if (action.DeleteState) {
        store.delete(action.DeleteState);
        kernel.respond(id, km, '"DeleteState"');
      }
    },
  };
}
