// The kernel's share of the node's quotas (../quotas.ts): processes per node and per package, each
// process's mailbox, and the memory one process may grow to.

import { defaultQuotas, type NodeQuotas } from '../quotas.js';

export type KernelLimits = Pick<NodeQuotas, 'maxProcesses' | 'maxProcessesPerPackage' | 'mailboxMessages' | 'mailboxBytes' | 'processMemoryBytes'>;

export function kernelLimits(q: NodeQuotas): KernelLimits {
  const { maxProcesses, maxProcessesPerPackage, mailboxMessages, mailboxBytes, processMemoryBytes } = q;
  return { maxProcesses, maxProcessesPerPackage, mailboxMessages, mailboxBytes, processMemoryBytes };
}

export function defaultLimits(): KernelLimits {
  return kernelLimits(defaultQuotas());
}
