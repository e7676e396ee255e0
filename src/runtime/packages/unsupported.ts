// System processes of a real node that a fake node cannot sensibly provide. Each exists, so that a
// process calling it learns why at once instead of waiting out a timeout: every Request that
// expects a Response is answered with an error naming what is not supported, in the shape the
// caller parses where there is one (hyperwallet: process_lib's HyperwalletResponse, whose
// `error.code` OperationNotSupported becomes a ServerError), else `{"Err": why}`.

import type { KernelApi, NativeProcess } from '../kernel/api.js';
import { type KernelMessage, type ProcessId, parseJsonBytes } from '../../core/types.js';

export interface UnsupportedProcess {
  id: ProcessId;
  /** What the real one does, and why a fake node does not. */
  why: string;
}

/** The real system processes (hyperdrive/packages/*) this runtime does not provide. */
export const UNSUPPORTED: UnsupportedProcess[] = [
  {
    id: { processName: 'hyperwallet', packageName: 'hyperwallet', publisherNode: 'sys' },
    why: 'hyperwallet (wallets, signing, ERC-4337 user operations) needs a real wallet service',
  },
  { id: { processName: 'contacts', packageName: 'contacts', publisherNode: 'sys' }, why: 'the Contacts app' },
  { id: { processName: 'explorer', packageName: 'file-explorer', publisherNode: 'sys' }, why: 'the File Explorer app' },
  { id: { processName: 'spider', packageName: 'spider', publisherNode: 'sys' }, why: 'Spider (LLM chat), which needs model provider keys' },
  { id: { processName: 'ttstt', packageName: 'spider', publisherNode: 'sys' }, why: 'text-to-speech and speech-to-text, which need provider keys' },
];

export function createUnsupported(p: UnsupportedProcess): NativeProcess {
  const name = `${p.id.processName}:${p.id.packageName}:${p.id.publisherNode}`;
  const message = `${name} is not supported on a fake node (${p.why}); run a real Hyperdrive node for it`;
  let kernel: KernelApi;
  return {
    id: p.id,
    start(k: KernelApi) {
      kernel = k;
    },
    handle(km: KernelMessage) {
      if (km.message.tag !== 'request' || km.message.val.expectsResponse === undefined) return;
      let body: unknown = { Err: message };
      if (p.id.processName === 'hyperwallet') {
        let requestId: unknown = null;
        try {
          requestId = (parseJsonBytes(km.message.val.body) as { request_id?: unknown } | null)?.request_id ?? null;
        } catch {
          requestId = null;
        }
        body = { success: false, data: null, error: { code: 'OperationNotSupported', message, details: null }, request_id: requestId };
      }
      kernel.respond(p.id, km, JSON.stringify(body));
    },
  };
}
