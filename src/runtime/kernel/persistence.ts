// The persisted process map: `<home>/kernel/process_map.json`, written after every change to a
// process that outlives a reboot (OnExit None processes are never persisted, as in Hyperdrive).

import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CapabilityJson, OnExitJson } from './json.js';

export interface StoredProcess {
  wasm_bytes_handle: string;
  wit_version: number | null;
  on_exit: OnExitJson;
  capabilities: CapabilityJson[];
  public: boolean;
}

export interface ProcessStore {
  load(): Record<string, StoredProcess>;
  put(id: string, p: StoredProcess): void;
  remove(id: string): void;
  flush(): void;
}

export class FileProcessStore implements ProcessStore {
  private readonly file: string;
  private map: Record<string, StoredProcess> = {};
  private dirty = false;
  private timer?: NodeJS.Timeout;

  constructor(home: string) {
    const dir = join(home, 'kernel');
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, 'process_map.json');
    // Read at once: modules may grant capabilities (and so write) before the kernel restores.
    try {
      this.map = JSON.parse(readFileSync(this.file, 'utf8')) as Record<string, StoredProcess>;
    } catch {
      this.map = {};
    }
  }

  load(): Record<string, StoredProcess> {
    return structuredClone(this.map);
  }

  put(id: string, p: StoredProcess): void {
    this.map[id] = p;
    this.schedule();
  }

  remove(id: string): void {
    if (!(id in this.map)) return;
    delete this.map[id];
    this.schedule();
  }

  // Many changes come in bursts (an install grants caps to every process): write once per tick.
  private schedule(): void {
    this.dirty = true;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      try {
        this.flush();
      } catch (e) {
        // A change that lands after the node stopped and its home was deleted (a late VFS grant):
        // there is nothing left to persist into, and no caller to tell.
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }, 0);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.dirty) return;
    this.dirty = false;
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.map, null, 1));
    renameSync(tmp, this.file);
  }
}
