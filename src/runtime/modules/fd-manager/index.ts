// fd-manager:distro:sys — shares the node's file-descriptor budget among the processes that ask
// for a share, as Hyperdrive's (hyperdrive/src/fd_manager.rs, lib/src/fd_manager.rs). The budget
// is a percentage of the open-files limit less 30 kept for the system, or a static maximum
// (Hyperdrive's --soft-ulimit). Half of it is split evenly among the registered processes, the
// other half by how often each hit its limit (every registration counts as one hit), and each is
// sent `{"FdsLimit": n}` as a Request whenever the shares are recomputed: on a registration and on
// every `FdsLimitHit`. `GetState` and `GetProcessFdLimit` report. Only requests from our node are
// served. The open-files limit is re-read every `UpdateUpdateUlimitSecs` (sic: Hyperdrive's name)
// seconds, an hour by default, by a timer that does not keep Node alive; when it changed, the
// budget is recomputed and re-split.

import { parseJsonExact } from '../../../core/json.js';
import { fromUtf8, type KernelMessage, parseProcessId, type ProcessId, processIdToString, systemProcess } from '../../../core/types.js';
import type { KernelApi, NativeProcess } from '../../kernel/api.js';
import { readOpenFilesLimit } from './ulimit.js';

export const FD_MANAGER_PROCESS: ProcessId = systemProcess('fd-manager');

/**
 * Hyperdrive's defaults but the percentage: Hyperdrive gives its modules 90% of the ulimit; this
 * node runs in Node.js, whose own descriptors (worker threads, sockets, the chain's connections,
 * the component cache) need more of the rest, so 60%. Re-read hourly, cull half on a hit.
 */
const DEFAULTS = { percentage: 60, updateUlimitSecs: 3600, cullFractionDenominator: 2 };
/** Descriptors kept out of the budget for the system (Hyperdrive's SYS_RESERVED_FDS). */
const SYS_RESERVED_FDS = 30;

export interface FdManagerOptions {
  /** Hyperdrive's --soft-ulimit: a static budget of descriptors instead of a share of the ulimit. */
  staticMax?: number;
  /** A fixed open-files limit instead of the real one (for tests). */
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
  const staticMax = opts.staticMax;
  let ulimit = readUlimit();
  let rereadTimer: NodeJS.Timeout | undefined;
  const config = { ...DEFAULTS };
  const registered = new Map<string, { id: ProcessId; node: string; hitCount: number; limit: number }>();
  let kernel!: KernelApi;

  const maxFds = () =>
    staticMax !== undefined ? staticMax : Math.max(1, Math.floor((ulimit * config.percentage) / 100) - SYS_RESERVED_FDS);

  /**
   * Hyperdrive's update_all_fds_limits: half the budget evenly, half by hit count; then every
   * registered process is told its share.
   */
  function rebalance(): void {
    const half = maxFds() / 2;
    const hits = [...registered.values()].reduce((n, p) => n + p.hitCount, 0);
    const even = half / Math.max(registered.size, 1);
    const perHit = half / Math.max(hits, 1);
    for (const p of registered.values()) {
      p.limit = Math.floor(even + perHit * p.hitCount);
      kernel.tell(FD_MANAGER_PROCESS, { node: p.node, process: p.id }, JSON.stringify({ FdsLimit: p.limit }));
    }
  }

  /** Re-read the open-files limit; if it changed, recompute the budget and re-split it. */
  function rereadUlimit(): void {
    if (staticMax !== undefined) return;
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
    if (staticMax !== undefined) return;
    // setInterval cannot wait past 2^31-1 ms (about 24 days).
    rereadTimer = setInterval(rereadUlimit, Math.min(config.updateUlimitSecs * secondMs, 2 ** 31 - 1));
    rereadTimer.unref();
  }

  function describeConfig(key: keyof typeof config): string {
    switch (key) {
      case 'percentage':
        return `the node's budget is now ${config.percentage}% of ${ulimit} open files less ${SYS_RESERVED_FDS} (${maxFds()})`;
      case 'updateUlimitSecs':
        return `re-reading the open-files limit every ${config.updateUlimitSecs} s`;
      case 'cullFractionDenominator':
        return `over its share a module now closes 1/${config.cullFractionDenominator} of its open handles`;
    }
  }

  /**
   * Runtime modules that keep handles (kv, sqlite) cull by the node's fraction: they are told it
   * privately (Hyperdrive ignores UpdateCullFractionDenominator; user processes never get this).
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
    const raw = fromUtf8(km.message.val.body);
    const bad = (why = 'not an FdManagerRequest'): undefined => {
      kernel.print(1, `fd-manager: ignoring a request from ${source} (${why}): ${raw.slice(0, 200)}`);
    };
    let action: unknown;
    try {
      action = parseJsonExact(raw);
    } catch {
      return bad('not JSON');
    }
    const [name, arg] =
      typeof action === 'string'
        ? [action, undefined]
        : action && typeof action === 'object' && !Array.isArray(action) && Object.keys(action).length === 1
          ? Object.entries(action as Record<string, unknown>)[0]
          : [];
    // GetState and GetProcessFdLimit answer only a caller that awaits the answer (fd_manager.rs).
    const answer = (body: unknown) => {
      if (km.message.tag === 'request' && km.message.val.expectsResponse !== undefined)
        kernel.respond(FD_MANAGER_PROCESS, km, JSON.stringify(body));
    };
    const setNumber = (key: keyof typeof config): undefined => {
      if (typeof arg !== 'number' || !Number.isInteger(arg) || arg <= 0) return bad('expected a whole number above 0');
      config[key] = arg;
      kernel.print(1, `fd-manager: ${describeConfig(key)}`);
      if (key === 'cullFractionDenominator') for (const p of registered.values()) tellCull(p);
      if (key === 'updateUlimitSecs') scheduleReread();
      if (key === 'percentage') rebalance();
    };

    switch (name) {
      case 'RequestFdsLimit': {
        // A (re-)registration starts over with one hit, as in Hyperdrive.
        const p = { id: km.source.process, node: km.source.node, hitCount: 1, limit: 0 };
        registered.set(source, p);
        if (config.cullFractionDenominator !== DEFAULTS.cullFractionDenominator) tellCull(p);
        rebalance();
        return;
      }
      case 'FdsLimitHit': {
        const p = registered.get(source);
        if (p) p.hitCount++;
        kernel.print(2, `fd-manager: ${source} hit its fd limit`);
        rebalance();
        return;
      }
      case 'FdsLimit':
        return bad('FdsLimit is sent by fd-manager, not to it');
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
        // A static budget has no percentage (Hyperdrive answers BadRequest).
        if (staticMax !== undefined) return bad('the budget is static (--soft-ulimit)');
        if (typeof arg === 'number' && arg > 100) return bad('a percentage is at most 100');
        return setNumber('percentage');
      case 'UpdateUpdateUlimitSecs':
        if (staticMax !== undefined) return bad('the budget is static (--soft-ulimit)');
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
