// The module side of fd-manager (Hyperdrive's fd_manager protocol): a runtime module that keeps
// handles open (kv's LevelDB folders, sqlite's connections) asks fd-manager for its share with
// "RequestFdsLimit" when it starts, as Hyperdrive's kv and sqlite do, is told `{"FdsLimit": n}`
// (again whenever the share changes) and keeps at most n file descriptors open. Hyperdrive's
// modules count one per handle; here each handle counts the descriptors it really holds
// (measured: a LevelDB database 4 (LOCK, LOG, MANIFEST, the write-ahead log; its tables are
// mmapped), a SQLite database in WAL mode 3 (the db, -wal, -shm)), so no package can open its way
// past the module's share and starve the others of descriptors. When one more handle would not
// fit, the least recently used half (the default cull fraction, 1/2) closes and "FdsLimitHit" is
// reported. Closed handles reopen on their next use, so processes see no difference.

import { parseJsonExact } from '../../../core/json.js';
import { fromUtf8, type KernelMessage, type ProcessId, processIdToString, systemProcess } from '../../../core/types.js';
import type { KernelApi } from '../../kernel/api.js';

const FD_MANAGER = systemProcess('fd-manager');
/** Hyperdrive's default; fd-manager's UpdateCullFractionDenominator changes it node-wide. */
const CULL_FRACTION_DENOMINATOR = 2;

/** Descriptors one open handle holds (measured on Linux; see the header). */
export const FDS_PER_HANDLE = { leveldb: 4, sqliteWal: 3 } as const;

/**
 * Register `self` with fd-manager, as every Hyperdrive module that holds descriptors does at boot:
 * kv, sqlite, vfs and net (`send_fd_manager_request_fds_limit` in hyperdrive/src/{kv,sqlite,vfs}.rs
 * and net/mod.rs). fd-manager splits the budget among all of them.
 */
export function requestFdsLimit(kernel: KernelApi, self: ProcessId): void {
  kernel.tell(self, { node: kernel.our, process: FD_MANAGER }, JSON.stringify('RequestFdsLimit'));
}

/** Whether `km` comes from our fd-manager (its `{"FdsLimit": n}`), which a module takes apart from its own requests. */
export function fromFdManager(km: KernelMessage, our: string): boolean {
  return km.source.node === our && processIdToString(km.source.process) === 'fd-manager:distro:sys';
}

export class FdLimiter {
  /** The share in descriptors; until fd-manager answers there is no limit. */
  private limit: number | undefined;
  /** Open handles, least recently used first (Map keeps insertion order). */
  private readonly lru = new Map<string, true>();
  private hits = 0;
  private cullDenominator = CULL_FRACTION_DENOMINATOR;

  constructor(
    private readonly kernel: () => KernelApi,
    private readonly self: ProcessId,
    /** Close one handle (the caller's map entry too). */
    private readonly closeHandle: (key: string) => Promise<void>,
    /** Descriptors each handle holds. */
    readonly fdsPerHandle = 1,
  ) {}

  /** Register with fd-manager (Hyperdrive's modules do at boot). */
  start(): void {
    requestFdsLimit(this.kernel(), this.self);
  }

  /**
   * A Request from fd-manager: take `{"FdsLimit": n}` and answer true; false for anyone else's
   * message, which the module serves. What no longer fits closes at the module's next request
   * (`enforce`, inside its queue, so no handle closes under a request using it).
   */
  takeLimit(km: KernelMessage): boolean {
    if (km.message.tag !== 'request' || !fromFdManager(km, this.kernel().our)) return false;
    try {
      const v = parseJsonExact(fromUtf8(km.message.val.body)) as { FdsLimit?: unknown; CullFractionDenominator?: unknown };
      if (typeof v?.FdsLimit === 'number' && Number.isInteger(v.FdsLimit) && v.FdsLimit >= 0) {
        this.limit = v.FdsLimit;
      }
      const d = v?.CullFractionDenominator;
      if (typeof d === 'number' && Number.isInteger(d) && d > 0) this.cullDenominator = d;
    } catch {
      // not JSON: nothing fd-manager would send
    }
    return true;
  }

  /** Handles that fit the share (at least one: a module must be able to serve at all). */
  capacity(): number | undefined {
    return this.limit === undefined ? undefined : Math.max(1, Math.floor(this.limit / this.fdsPerHandle));
  }

  /** `key` was used: it becomes the most recently used. */
  touch(key: string): void {
    if (!this.lru.has(key)) return;
    this.lru.delete(key);
    this.lru.set(key, true);
  }

  /** Make room for a new handle `key` (call before opening it), then count it. */
  async admit(key: string): Promise<void> {
    await this.enforce(1);
    this.lru.set(key, true);
  }

  /** A handle was closed by its owner (RemoveDb): stop counting it. */
  forget(key: string): void {
    this.lru.delete(key);
  }

  /** Close handles until `room` more fit under the share (none if there is no share yet). */
  async enforce(room = 0): Promise<void> {
    const capacity = this.capacity();
    if (capacity === undefined || this.lru.size + room <= capacity) return;
    const overBy = this.lru.size + room - capacity;
    const cull = Math.min(this.lru.size, Math.max(overBy, Math.ceil(this.lru.size / this.cullDenominator)));
    const victims = [...this.lru.keys()].slice(0, cull);
    for (const key of victims) {
      this.lru.delete(key);
      await this.closeHandle(key);
    }
    this.hits++;
    const k = this.kernel();
    k.print(
      2,
      `${this.self.processName}: over its share of ${this.limit} file descriptors (${capacity} handles of ${this.fdsPerHandle}); closed ${victims.length} least recently used`,
    );
    k.tell(this.self, { node: k.our, process: FD_MANAGER }, JSON.stringify('FdsLimitHit'));
  }

  /** Open handles, the descriptors they hold, the share (undefined: none yet) and how often it was hit. */
  stats(): { open: number; fds: number; limit: number | undefined; hits: number } {
    return { open: this.lru.size, fds: this.lru.size * this.fdsPerHandle, limit: this.limit, hits: this.hits };
  }
}
