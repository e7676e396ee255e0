// fd-manager:distro:sys — shares the node's file-descriptor budget among the processes that ask
// for a share (Hyperdrive's FdManagerRequest, interop §10.1). The budget is a percentage of the
// open-files limit, split evenly among registered processes; each gets `{"FdsLimit": n}` as a
// Request whenever its share changes. `FdsLimitHit` is counted; `GetState` and
// `GetProcessFdLimit` report. Only requests from our node are served. The open-files limit is
// re-read every `UpdateUpdateUlimitSecs` (sic: Hyperdrive's name) seconds, an hour by default, by
// a timer that does not keep Node alive; when it changed, the budget is recomputed and re-split.

import type { KernelApi, NativeProcess } from '../../kernel/api.js';
import { readOpenFilesLimit } from './ulimit.js';
import { fromUtf8, type KernelMessage, parseProcessId, type ProcessId, processIdToString, systemProcess } from '../../../core/types.js';

export const FD_MANAGER_PROCESS: ProcessId = systemProcess('fd-manager');

/** Hyperdrive's defaults: 60% of the ulimit, re-read hourly, cull half on a hit. */
const DEFAULTS = { percentage: 60, updateUlimitSecs: 3600, cullFractionDenominator: 2 };

export interface FdManagerOptions {
  /** A static open-files limit instead of the real one (Hyperdrive's --soft-ulimit). */
  ulimit?: number;
  /** Where the open-files limit is read from, at start and then periodically; default the real soft limit. */
  readUlimit?: () => number;
  /** Milliseconds in one second of UpdateUpdateUlimitSecs; default 1000 (tests shrink it). */
  secondMs?: number;
}

export interface FdsLimit {
  limit: number;
  hit_count: number;
}

export interface FdManagerModule extends NativeProcess {
  /** The current share of each registered process. */
  state(): Record<string, FdsLimit>;
  /** The open-files limit as last read. */
  ulimit(): number;
}

export function createFdManager(opts: FdManagerOptions = {}): FdManagerModule {
  const fixed = opts.ulimit;
  const readUlimit = opts.readUlimit ?? (fixed !== undefined ? () => fixed : () => readOpenFilesLimit());
  const secondMs = opts.secondMs ?? 1000;
  let ulimit = readUlimit();
  let rereadTimer: NodeJS.Timeout | undefined;
  const config = { ...DEFAULTS };
  const registered = new Map<string, { id: ProcessId; node: string; hitCount: number; limit: number }>();
  let kernel!: KernelApi;

  const maxFds = () => Math.floor((ulimit * config.percentage) / 100);

  /** Re-split the budget and tell every process whose share changed. */
  function rebalance(): void {
    const share = registered.size === 0 ? 0 : Math.max(1, Math.floor(maxFds() / registered.size));
    for (const p of registered.values()) {
      if (p.limit === share) continue;
      p.limit = share;
      kernel.tell(FD_MANAGER_PROCESS, { node: p.node, process: p.id }, JSON.stringify({ FdsLimit: share }));
    }
  }

  /** Re-read the open-files limit; if it changed, recompute the budget and re-split it. */
  function rereadUlimit(): void {
    let now: number;
    try {
      now = readUlimit();
    } catch (e) {
      kernel.print(1, `fd-manager: could not re-read the open-files limit (${(e as Error).message}); keeping ${ulimit}`);
      return;
    }
    if (!Number.isSafeInteger(now) || now <= 0 || now === ulimit) return;
    const before = ulimit;
    ulimit = now;
    kernel.print(1, `fd-manager: the open-files limit changed from ${before} to ${now}; ${describeConfig('percentage')}`);
    rebalance();
  }

  /** (Re)start the periodic re-read at the current period. */
  function scheduleReread(): void {
    if (rereadTimer) clearInterval(rereadTimer);
    // setInterval cannot wait past 2^31-1 ms (about 24 days).
    rereadTimer = setInterval(rereadUlimit, Math.min(config.updateUlimitSecs * secondMs, 2 ** 31 - 1));
    rereadTimer.unref();
  }

  function describeConfig(key: keyof typeof config): string {
    switch (key) {
      case 'percentage':
        return `the node's budget is now ${config.percentage}% of ${ulimit} open files (${maxFds()})`;
      case 'updateUlimitSecs':
        return `re-reading the open-files limit every ${config.updateUlimitSecs} s`;
      case 'cullFractionDenominator':
        return `over its share a module now closes 1/${config.cullFractionDenominator} of its open handles`;
    }
  }

  /**
   * Runtime modules that keep handles (kv, sqlite) cull by the node's fraction: they are told it
   * privately (Hyperdrive has no message for this; user processes never get it).
   */
  function tellCull(p: { id: ProcessId; node: string }): void {
    if (p.id.packageName !== 'distro' || p.id.publisherNode !== 'sys' || p.node !== kernel.our) return;
    kernel.tell(FD_MANAGER_PROCESS, { node: p.node, process: p.id }, JSON.stringify({ CullFractionDenominator: config.cullFractionDenominator }));
  }

  const state = (): Record<string, FdsLimit> =>
    Object.fromEntries([...registered].map(([k, p]) => [k, { limit: p.limit, hit_count: p.hitCount }]));

  function handle(km: KernelMessage): undefined {
    if (km.message.tag !== 'request' || km.source.node !== kernel.our) return;
    const source = processIdToString(km.source.process);
    let action: unknown;
    try {
      action = JSON.parse(fromUtf8(km.message.val.body));
    } catch {
      kernel.print(1, `fd-manager: ignoring a request from ${source} that is not JSON`);
      return;
    }
    const [name, arg] =
      typeof action === 'string' ? [action, undefined] : Object.entries((action ?? {}) as Record<string, unknown>)[0] ?? [];
    const answer = (body: unknown) => kernel.respond(FD_MANAGER_PROCESS, km, JSON.stringify(body));
    const setNumber = (key: keyof typeof config): undefined => {
      if (typeof arg !== 'number' || !Number.isInteger(arg) || arg <= 0) return bad();
      config[key] = arg;
      kernel.print(1, `fd-manager: ${describeConfig(key)}`);
      if (key === 'cullFractionDenominator') for (const p of registered.values()) tellCull(p);
      if (key === 'updateUlimitSecs') scheduleReread();
      rebalance();
    };
    const raw = fromUtf8(km.message.val.body);
    const bad = (): undefined => {
      kernel.print(1, `fd-manager: malformed request from ${source}: ${raw.slice(0, 200)}`);
    };

    switch (name) {
      case 'RequestFdsLimit': {
        const have = registered.get(source);
        if (have) {
          kernel.tell(FD_MANAGER_PROCESS, km.source, JSON.stringify({ FdsLimit: have.limit }));
          return;
        }
        const p = { id: km.source.process, node: km.source.node, hitCount: 0, limit: -1 };
        registered.set(source, p);
        if (config.cullFractionDenominator !== DEFAULTS.cullFractionDenominator) tellCull(p);
        rebalance();
        return;
      }
      case 'FdsLimitHit': {
        const p = registered.get(source);
        if (p) p.hitCount++;
        return;
      }
      case 'FdsLimit':
        kernel.print(1, `fd-manager: ${source} sent FdsLimit, which only fd-manager sends`);
        return;
      case 'GetState':
        answer({ GetState: state() });
        return;
      case 'GetProcessFdLimit': {
        if (typeof arg !== 'string') return bad();
        let key: string;
        try {
          key = processIdToString(parseProcessId(arg));
        } catch {
          return bad();
        }
        answer({ GetProcessFdLimit: registered.get(key)?.limit ?? 0 });
        return;
      }
      case 'UpdateMaxFdsAsFractionOfUlimitPercentage':
        if (typeof arg === 'number' && arg > 100) return bad();
        return setNumber('percentage');
      case 'UpdateUpdateUlimitSecs':
        return setNumber('updateUlimitSecs');
      case 'UpdateCullFractionDenominator':
        return setNumber('cullFractionDenominator');
      default:
        return bad();
    }
  }

  return {
    id: FD_MANAGER_PROCESS,
    start(k) {
      kernel = k;
      scheduleReread();
    },
    handle,
    state,
    ulimit: () => ulimit,
    stop() {
      if (rereadTimer) clearInterval(rereadTimer);
      rereadTimer = undefined;
      registered.clear();
    },
  };
}
