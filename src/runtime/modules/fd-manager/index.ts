// fd-manager:distro:sys — shares the node's file-descriptor budget among the processes that ask
// for a share (Hyperdrive's FdManagerRequest, interop §10.1). The budget is a percentage of the
// open-files limit, split evenly among registered processes; each gets `{"FdsLimit": n}` as a
// Request whenever its share changes. `FdsLimitHit` is counted; `GetState` and
// `GetProcessFdLimit` report. Only requests from our node are served.

import type { KernelApi, NativeProcess } from '../../kernel/api.js';
import { fromUtf8, type KernelMessage, parseProcessId, type ProcessId, processIdToString, systemProcess } from '../../types.js';

export const FD_MANAGER_PROCESS: ProcessId = systemProcess('fd-manager');

/** Hyperdrive's defaults: 60% of the ulimit, re-read hourly, cull half on a hit. */
const DEFAULTS = { percentage: 60, updateUlimitSecs: 3600, cullFractionDenominator: 2 };

export interface FdManagerOptions {
  /** The process's open-files limit; default 1024 (a common `ulimit -n`). */
  ulimit?: number;
}

export interface FdsLimit {
  limit: number;
  hit_count: number;
}

export interface FdManagerModule extends NativeProcess {
  /** The current share of each registered process. */
  state(): Record<string, FdsLimit>;
}

export function createFdManager(opts: FdManagerOptions = {}): FdManagerModule {
  const ulimit = opts.ulimit ?? 1024;
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
    },
    handle,
    state,
    stop() {
      registered.clear();
    },
  };
}
