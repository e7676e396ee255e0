// sign:sign:sys — signs and verifies with the node's networking key for local processes, as
// Hyperdrive's (hyperdrive/packages/sign/sign/src/lib.rs, api sign:sys-v0) and as process_lib's
// `sign::net_key_sign` / `net_key_verify` call it (process_lib src/sign.rs):
//   "NetKeySign" + blob                                 -> "NetKeySign" + blob = signature
//   {"NetKeyVerify": {"node": "<address>", "signature": [u8…]}} + blob -> {"NetKeyVerify": bool}
//   "NetKeyMakeMessage" + blob                          -> "NetKeyMakeMessage" + blob = signed bytes
// net:distro:sys prepends the sender's address to what it signs, so the bytes signed are
// [our@sign:sign:sys, source address, blob]; NetKeyVerify rebuilds them for `node`'s address.
// A request it cannot serve (no such variant, a `node` that is no address) is answered
// `{"Err": why}` at once, where Hyperdrive logs and leaves the caller to time out.

import type { KernelApi, NativeProcess } from '../kernel/api.js';
import { encodeNetAction, unpack } from '../modules/net/wire.js';
import { type Address, addressToString, type KernelMessage, type ProcessId, parseAddress, parseJsonBytes, systemProcess } from '../../core/types.js';

export const SIGN_PROCESS: ProcessId = { processName: 'sign', packageName: 'sign', publisherNode: 'sys' };
const NET = systemProcess('net');
const NET_TIMEOUT_SECS = 10;

export function createSign(): NativeProcess {
  return new Sign();
}

/** make_message: the source's address, then the bytes. */
function withAddress(a: Address, bytes: Uint8Array): Uint8Array {
  return Buffer.concat([Buffer.from(addressToString(a)), bytes]);
}

class Sign implements NativeProcess {
  readonly id = SIGN_PROCESS;
  private kernel!: KernelApi;

  start(kernel: KernelApi): void {
    this.kernel = kernel;
  }

  async handle(km: KernelMessage): Promise<void> {
    if (km.message.tag !== 'request') return;
    const fail = (why: string) => {
      this.kernel.log.info(`sign: ${why}`);
      if (km.message.tag === 'request' && km.message.val.expectsResponse !== undefined) this.kernel.respond(this.id, km, JSON.stringify({ Err: why }));
    };
    if (km.source.node !== this.kernel.our) return fail(`only processes on ${this.kernel.our} may use its networking key`);
    let req: unknown;
    try {
      req = parseJsonBytes(km.message.val.body);
    } catch {
      req = undefined;
    }
    const blob = km.lazyLoadBlob?.bytes ?? new Uint8Array(0);
    try {
      if (req === 'NetKeySign') {
        const r = await this.kernel.request(this.id, { node: this.kernel.our, process: NET }, encodeNetAction({ kind: 'Sign' }), {
          blob: { bytes: withAddress(km.source, blob) },
          timeoutSecs: NET_TIMEOUT_SECS,
        });
        if (unpack(r.response.body) !== 'Signed' || !r.blob) return fail('signature failed: net:distro:sys did not sign');
        this.kernel.respond(this.id, km, JSON.stringify('NetKeySign'), { bytes: r.blob.bytes });
        return;
      }
      if (req === 'NetKeyMakeMessage') {
        const ours = { node: this.kernel.our, process: this.id };
        this.kernel.respond(this.id, km, JSON.stringify('NetKeyMakeMessage'), { bytes: withAddress(ours, withAddress(km.source, blob)) });
        return;
      }
      const verify = (req as { NetKeyVerify?: { node?: unknown; signature?: unknown } } | null)?.NetKeyVerify;
      if (verify && typeof verify === 'object') {
        if (typeof verify.node !== 'string') return fail('NetKeyVerify needs "node": the signer\'s address (node@process:package:publisher)');
        const sig = verify.signature;
        if (!Array.isArray(sig) || !sig.every((b) => Number.isInteger(b) && b >= 0 && b <= 255))
          return fail('NetKeyVerify needs "signature": the signature as a list of bytes');
        let signer: Address;
        try {
          signer = parseAddress(verify.node);
        } catch (e) {
          return fail(`NetKeyVerify: ${(e as Error).message}`);
        }
        const from = { node: signer.node, process: this.id };
        const r = await this.kernel.request(
          this.id,
          { node: this.kernel.our, process: NET },
          encodeNetAction({ kind: 'Verify', from, signature: Uint8Array.from(sig as number[]) }),
          { blob: { bytes: withAddress(signer, blob) }, timeoutSecs: NET_TIMEOUT_SECS },
        );
        const answer = unpack(r.response.body) as { Verified?: unknown } | undefined;
        if (typeof answer?.Verified !== 'boolean') return fail('weird response from net:distro:sys');
        this.kernel.respond(this.id, km, JSON.stringify({ NetKeyVerify: answer.Verified }));
        return;
      }
    } catch (e) {
      return fail(`net:distro:sys did not answer: ${(e as Error).message}`);
    }
    fail('expected "NetKeySign", {"NetKeyVerify": {"node", "signature"}} or "NetKeyMakeMessage" (sign:sys-v0)');
  }
}
