// The module side of fd-manager (Hyperdrive's fd_manager protocol): a runtime module that keeps
// handles open (kv's LevelDB folders, sqlite's connections) asks fd-manager for its share with
// "RequestFdsLimit", is told `{"FdsLimit": n}` (again whenever the share changes), and keeps at
// most n handles open: when it needs one more, it closes the least recently used half (the
// default cull fraction, 1/2) and reports "FdsLimitHit". Closed handles reopen on their next use,
// so processes see no difference; no process can make the node hold more than the budget.

import type { KernelApi } from '../../kernel/api.js';
import { fromUtf8, type KernelMessage, type ProcessId, processIdToString, systemProcess } from '../../../core/types.js';

const FD_MANAGER = systemProcess('fd-manager');
/** Hyperdrive's default; fd-manager's UpdateCullFractionDenominator changes it node-wide. */
const CULL_FRACTION_DENOMINATOR = 2;

export class FdLimiter {
  /** Until fd-manager answers there is no limit. */
  private limit: number | undefined;
  /** Open handles, least recently used first (Map keeps insertion order). */
  private readonly lru = new Map<string, true>();
  private asked = false;
  private hits = 0;
  private cullDenominator = CULL_FRACTION_DENOMINATOR;

  constructor(
    private readonly kernel: () => KernelApi,
    private readonly self: ProcessId,
    /** Close one handle (the caller's map entry too). */
    private readonly closeHandle: (key: string) => Promise<void>,
  ) {}

  /** fd-manager's `{"FdsLimit": n}` to this module: take it and answer true; false for anything else. */
  takeLimit(km: KernelMessage): boolean {
    if (km.message.tag !== 'request' || processIdToString(km.source.process) !== 'fd-manager:distro:sys') return false;
    try {
      const v = JSON.parse(fromUtf8(km.message.val.body)) as { FdsLimit?: unknown; CullFractionDenominator?: unknown };
      if (typeof v?.FdsLimit === 'number' && Number.isInteger(v.FdsLimit) && v.FdsLimit > 0) this.limit = v.FdsLimit;
      const d = v?.CullFractionDenominator;
      if (typeof d === 'number' && Number.isInteger(d) && d > 0) this.cullDenominator = d;
    } catch {
      // not JSON: nothing fd-manager would send
    }
    return true;
  }

  /** `key` was used: it becomes the most recently used. */
  touch(key: string): void {
    if (!this.lru.has(key)) return;
    this.lru.delete(key);
    this.lru.set(key, true);
  }

  /** Make room for a new handle `key` (call before opening it), then count it. */
  async admit(key: string): Promise<void> {
    this.ask();
    await this.enforce(1);
    this.lru.set(key, true);
  }

  /** A handle was closed by its owner (RemoveDb): stop counting it. */
  forget(key: string): void {
    this.lru.delete(key);
  }

  /** Close handles until `room` more fit under the limit (none if there is no limit yet). */
  async enforce(room = 0): Promise<void> {
    const limit = this.limit;
    if (limit === undefined || this.lru.size + room <= limit) return;
    const overBy = this.lru.size + room - limit;
    const cull = Math.min(this.lru.size, Math.max(overBy, Math.ceil(this.lru.size / this.cullDenominator)));
    const victims = [...this.lru.keys()].slice(0, cull);
    for (const key of victims) {
      this.lru.delete(key);
      await this.closeHandle(key);
    }
    this.hits++;
    const k = this.kernel();
    k.print(2, `${this.self.processName}: over its ${limit} open handles; closed ${victims.length} least recently used`);
    k.tell(this.self, { node: k.our, process: FD_MANAGER }, JSON.stringify('FdsLimitHit'));
  }

  /** Open handles counted, the limit (undefined: none yet) and how often it was hit. */
  stats(): { open: number; limit: number | undefined; hits: number } {
    return { open: this.lru.size, limit: this.limit, hits: this.hits };
  }

  private ask(): void {
    if (this.asked) return;
    this.asked = true;
    const k = this.kernel();
    k.tell(this.self, { node: k.our, process: FD_MANAGER }, JSON.stringify('RequestFdsLimit'));
  }
}
