// How a native system process (hns-indexer, the app store's chain part) talks to eth:distro:sys:
// one Request, its JSON answer, and an `Err` answer turned into an exception.

import type { KernelApi } from '../../kernel/api.js';
import { fromUtf8, jsonBytes, type ProcessId, systemProcess } from '../../types.js';

const ETH = systemProcess('eth');

export async function askEth(kernel: KernelApi, from: ProcessId, action: unknown): Promise<unknown> {
  const reply = await kernel.request(from, { node: kernel.our, process: ETH }, jsonBytes(action), { timeoutSecs: 60 });
  const body = JSON.parse(fromUtf8(reply.response.body)) as unknown;
  if (body && typeof body === 'object' && 'Err' in body) throw new Error(`eth: ${JSON.stringify((body as { Err: unknown }).Err)}`);
  return body;
}
