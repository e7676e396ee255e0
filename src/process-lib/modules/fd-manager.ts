// Client for `fd-manager:distro:sys` (Hyperdrive's FdManagerRequest): the node's budget of open
// files and sockets, shared among the processes that ask for a share. A process asks once with
// requestFdsLimit(); its share arrives as a `{"FdsLimit": n}` Request, again whenever it changes.
// The Update* requests are administrative and answered with nothing.

import type { ProcessId } from '../../core/types.js';
import { processIdToString } from '../ids.js';
import type { Message } from '../message.js';
import { callModule, describeVariant, expectVariant, tellModule } from './call.js';
import { ModuleError } from '../errors.js';

export interface FdsLimit {
  limit: number;
  hit_count: number;
}

export type FdManagerRequest =
  | 'RequestFdsLimit'
  | 'FdsLimitHit'
  | { FdsLimit: number }
  | { UpdateMaxFdsAsFractionOfUlimitPercentage: number }
  | { UpdateUpdateUlimitSecs: number }
  | { UpdateCullFractionDenominator: number }
  | 'GetState'
  | { GetProcessFdLimit: string };

function fdError(err: unknown): ModuleError {
  return new ModuleError('fd-manager', err, describeVariant(err));
}

/** Ask for our share; it arrives as a Request (see parseFdsLimit). */
export function requestFdsLimit(): void {
  tellModule('fd-manager', 'RequestFdsLimit' satisfies FdManagerRequest);
}

/** Tell fd-manager we needed more than our share. */
export function fdsLimitHit(): void {
  tellModule('fd-manager', 'FdsLimitHit' satisfies FdManagerRequest);
}

/** Every registered process's share and how often it hit it, keyed by process ID. */
export function getState(timeout = 5): Record<string, FdsLimit> {
  const { value } = callModule('fd-manager', 'GetState' satisfies FdManagerRequest, fdError, { timeout });
  return expectVariant<Record<string, FdsLimit>>('fd-manager', value, 'GetState');
}

/** One process's share (0 if it never asked). */
export function getProcessFdLimit(process: ProcessId | string, timeout = 5): number {
  const id = typeof process === 'string' ? process : processIdToString(process);
  const { value } = callModule('fd-manager', { GetProcessFdLimit: id } satisfies FdManagerRequest, fdError, { timeout });
  return expectVariant<number>('fd-manager', value, 'GetProcessFdLimit');
}

/** The node's budget as a percentage (1-100) of its open-files limit; shares are re-split. */
export function updateMaxFdsAsFractionOfUlimitPercentage(percentage: number): void {
  tellModule('fd-manager', { UpdateMaxFdsAsFractionOfUlimitPercentage: percentage } satisfies FdManagerRequest);
}

/** How often (seconds) fd-manager re-reads the open-files limit. */
export function updateUpdateUlimitSecs(seconds: number): void {
  tellModule('fd-manager', { UpdateUpdateUlimitSecs: seconds } satisfies FdManagerRequest);
}

/** Over its share, a module closes 1/denominator of its open handles. */
export function updateCullFractionDenominator(denominator: number): void {
  tellModule('fd-manager', { UpdateCullFractionDenominator: denominator } satisfies FdManagerRequest);
}

/** Our new share if `message` is fd-manager's `{"FdsLimit": n}`, else undefined. */
export function parseFdsLimit(message: Message): number | undefined {
  const p = message.source.process;
  if (!message.isRequest() || p.processName !== 'fd-manager' || p.packageName !== 'distro' || p.publisherNode !== 'sys')
    return undefined;
  const n = message.json<{ FdsLimit?: unknown }>()?.FdsLimit;
  return typeof n === 'number' ? n : undefined;
}
