// Capability signatures (interop §10.3): caps we issued are signed by our networking key when
// they leave; caps that come back claiming to be ours must carry a valid one, else the target
// never sees them (a remote node cannot mint our capabilities). Other nodes' caps keep the
// signature they arrived with, for when they travel back to their issuer. Ed25519 costs
// ~0.1-1 ms in JS, so both sides are cached (bounded).

import { ed25519 } from '@noble/curves/ed25519.js';
import type { Logger } from '../../../core/log.js';
import type { NetKey } from '../../../core/net-key.js';
import { addressToString, capabilityKey } from '../../../core/types.js';
import { type CapabilitySignatures, capabilitySigningBytes } from './kernel-message.js';

/** Entries kept in each capability-signature cache. */
const CAP_CACHE = 4096;

/** The node's name, key and log are known only once the module starts: read them late. */
export interface SignatureContext {
  our(): string;
  key(): NetKey;
  log(): Logger;
}

export function createCapabilitySignatures(ctx: SignatureContext): CapabilitySignatures {
  const signed = new Map<string, Uint8Array>();
  const verified = new Map<string, boolean>();
  const foreign = new Map<string, Uint8Array>();
  const remember = <V>(m: Map<string, V>, k: string, v: V) => {
    if (m.size >= CAP_CACHE) m.delete(m.keys().next().value as string);
    m.set(k, v);
  };
  return {
    sign(cap) {
      const k = capabilityKey(cap);
      if (cap.issuer.node !== ctx.our()) return foreign.get(k) ?? new Uint8Array(0);
      let sig = signed.get(k);
      if (!sig) {
        sig = ed25519.sign(capabilitySigningBytes(cap), ctx.key().secretKey);
        remember(signed, k, sig);
      }
      return sig;
    },
    accept(cap, sig) {
      const k = capabilityKey(cap);
      if (cap.issuer.node !== ctx.our()) {
        if (sig.length > 0) remember(foreign, k, sig);
        return true;
      }
      const vk = `${k}|${Buffer.from(sig).toString('hex')}`;
      let ok = verified.get(vk);
      if (ok === undefined) {
        try {
          ok = sig.length === 64 && ed25519.verify(sig, capabilitySigningBytes(cap), ctx.key().publicKey);
        } catch {
          ok = false;
        }
        remember(verified, vk, ok);
      }
      if (!ok) ctx.log().warning(`net: dropped a capability claiming to be issued by ${addressToString(cap.issuer)} without our valid signature`);
      return ok;
    },
  };
}
