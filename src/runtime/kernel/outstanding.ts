// Requests that expect a Response, until it comes, their time runs out, or the kernel gives them
// back early. A process's Request comes back as a SendError (Timeout after expects_response, as
// on Hyperdrive, or Offline from net); a native caller's promise (KernelApi.request, e.g. the
// HTTP RPC) is settled, and beyond Hyperdrive it is told at once why when the kernel knows its
// answer cannot come (the responder lacks a capability, the target died, the network refused it).

import {
  type Address,
  addressToString,
  type KernelMessage,
  type LazyLoadBlob,
  processIdToString,
  type Request,
  type SendError,
} from '../../core/types.js';
import { type Reply, SendErrorException } from './api.js';

export interface Outstanding {
  id: bigint;
  requester: string;
  target: Address;
  /** The target's process id as a string when it is on this node (to find waiters when it dies). */
  targetKey?: string;
  request: Request;
  blob?: LazyLoadBlob;
  context?: Uint8Array;
  timer?: NodeJS.Timeout;
  resolve?: (reply: Reply) => void;
  reject?: (e: SendErrorException) => void;
}

export type Waiter = { resolve: (r: Reply) => void; reject: (e: SendErrorException) => void };

/** A Request that was outstanding, as the SendError that returns it. */
export function sendErrorOf(out: Outstanding, kind: SendError['kind'] = 'timeout'): SendError {
  return { kind, target: out.target, message: { tag: 'request', val: out.request }, lazyLoadBlob: out.blob };
}

export class OutstandingRequests {
  private readonly byKey = new Map<string, Outstanding>();

  /**
   * @param our this node's name
   * @param toProcess hands a process its Request back as a SendError (with the context it saved)
   */
  constructor(
    private readonly our: string,
    private readonly toProcess: (requester: string, id: bigint, error: SendError, context: Uint8Array | undefined) => void,
  ) {}

  /** Remember a Request that expects a Response, and return it as a Timeout when its time is up. */
  track(km: KernelMessage, context: Uint8Array | undefined, waiter: Waiter | undefined, targetKey: string | undefined): void {
    const msg = km.message;
    if (msg.tag !== 'request' || msg.val.expectsResponse === undefined) return;
    if (km.source.node !== this.our) return;
    const requester = processIdToString(km.source.process);
    // Only the party named in rsvp (normally the sender) gets the Response.
    if (km.rsvp && processIdToString(km.rsvp.process) !== requester) return;
    const key = `${requester}/${km.id}`;
    const out: Outstanding = {
      id: km.id,
      requester,
      target: km.target,
      targetKey,
      request: msg.val,
      blob: km.lazyLoadBlob,
      context,
      resolve: waiter?.resolve,
      reject: waiter?.reject,
    };
    // setTimeout cannot wait past 2^31-1 ms (about 24 days); longer waits are as good as forever.
    const ms = Math.min(Number(msg.val.expectsResponse) * 1000, 2 ** 31 - 1);
    out.timer = setTimeout(() => {
      if (this.byKey.get(key) !== out) return;
      this.byKey.delete(key);
      const error = sendErrorOf(out);
      if (out.reject) out.reject(new SendErrorException(error, 'timeout', `no response from ${addressToString(km.target)} within ${ms / 1000} s`));
      else this.toProcess(requester, km.id, error, out.context);
    }, ms);
    out.timer.unref?.();
    this.byKey.set(key, out);
  }

  /** The Request `id` of `requester` that a Response answers, if still waiting. */
  get(requester: string, id: bigint): Outstanding | undefined {
    return this.byKey.get(`${requester}/${id}`);
  }

  /** Take it out (answered or given back): its timer stops. */
  take(requester: string, id: bigint): Outstanding | undefined {
    const key = `${requester}/${id}`;
    const out = this.byKey.get(key);
    if (!out) return undefined;
    this.byKey.delete(key);
    if (out.timer) clearTimeout(out.timer);
    return out;
  }

  /** Give a native waiter its Request back now, with why; a process's Request stays. True if given back. */
  rejectNative(requester: string, id: bigint, code: string, reason: string): boolean {
    if (!this.get(requester, id)?.reject) return false;
    const out = this.take(requester, id) as Outstanding;
    out.reject?.(new SendErrorException(sendErrorOf(out), code, reason));
    return true;
  }

  /** net could not deliver it: an Offline SendError now, for a process and a native waiter alike. */
  returnOffline(km: KernelMessage, reason: string): void {
    if (km.message.tag !== 'request' || km.source.node !== this.our) return;
    const requester = processIdToString(km.source.process);
    const out = this.take(requester, km.id);
    if (!out) return; // fire-and-forget, already answered or timed out
    const error = sendErrorOf(out, 'offline');
    if (out.reject) out.reject(new SendErrorException(error, 'offline', reason));
    else this.toProcess(requester, km.id, error, out.context);
  }

  /** Native waiters on Requests to the local process `targetKey`, which just ended: told at once. */
  failWaitersOn(targetKey: string, why: string): void {
    for (const out of [...this.byKey.values()]) {
      if (out.targetKey !== targetKey || !out.reject) continue;
      this.take(out.requester, out.id);
      out.reject(new SendErrorException(sendErrorOf(out), 'died', why));
    }
  }

  clear(): void {
    for (const out of this.byKey.values()) if (out.timer) clearTimeout(out.timer);
    this.byKey.clear();
  }
}
