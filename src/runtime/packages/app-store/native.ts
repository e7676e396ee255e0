// Small helpers the App Store's native processes share: ask the VFS (answers `{"Err": …}` become
// exceptions that keep the VFS error), and answer a Request only if it wants an answer.

import { type KernelApi, SendErrorException } from '../../kernel/api.js';
import { isNotFoundError } from '../../modules/vfs/index.js';
import { type KernelMessage, type LazyLoadBlob, type ProcessId, parseJsonBytes, systemProcess } from '../../../core/types.js';

export class VfsCallError extends Error {
  override name = 'VfsCallError';
  constructor(
    message: string,
    readonly vfsError?: unknown,
  ) {
    super(message);
  }
  get notFound(): boolean {
    return isNotFoundError(this.vfsError);
  }
}

export async function vfsCall(
  kernel: KernelApi,
  source: ProcessId,
  path: string,
  action: unknown,
  blob?: Uint8Array,
): Promise<{ body: unknown; blob?: Uint8Array }> {
  const name = typeof action === 'string' ? action : Object.keys(action as object)[0];
  let body: unknown;
  let out: Uint8Array | undefined;
  try {
    const r = await kernel.request(source, { node: kernel.our, process: systemProcess('vfs') }, JSON.stringify({ path, action }), {
      blob: blob && { bytes: blob },
      timeoutSecs: 60,
    });
    body = parseJsonBytes(r.response.body);
    out = r.blob?.bytes;
  } catch (e) {
    const why = e instanceof SendErrorException ? (e.reason ?? e.code) : (e as Error).message;
    throw new VfsCallError(`vfs ${name} ${path} failed: ${why}`);
  }
  if (body && typeof body === 'object' && 'Err' in body) {
    const err = (body as { Err: unknown }).Err;
    throw new VfsCallError(`vfs ${name} ${path}: ${JSON.stringify(err)}`, err);
  }
  return { body, blob: out };
}

/** Respond to `km` if it is a Request that expects a Response. */
export function answer(kernel: KernelApi, from: ProcessId, km: KernelMessage, body: unknown, blob?: LazyLoadBlob): void {
  if (km.message.tag !== 'request') return;
  if (km.message.val.expectsResponse === undefined && !km.rsvp) return;
  kernel.respond(from, km, JSON.stringify(body), blob);
}

/** The App Store's processes read and write every drive: they hold vfs's root capability, as the real ones' manifests ask. */
export function grantVfsRoot(kernel: KernelApi, id: ProcessId): void {
  kernel.tell(
    id,
    { node: kernel.our, process: systemProcess('kernel') },
    JSON.stringify({
      GrantCapabilities: {
        target: `${id.processName}:${id.packageName}:${id.publisherNode}`,
        capabilities: [{ issuer: `${kernel.our}@vfs:distro:sys`, params: JSON.stringify({ root: true }) }],
      },
    }),
  );
}
