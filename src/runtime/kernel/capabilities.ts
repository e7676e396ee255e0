// A process's capability set, keyed by capability identity (issuer + params as JSON).

import { addressToString, type Capability, capabilityKey } from '../../core/types.js';

export class CapabilitySet {
  private readonly caps = new Map<string, Capability>();

  constructor(initial: Iterable<Capability> = []) {
    for (const c of initial) this.add(c);
  }

  add(cap: Capability): void {
    this.caps.set(capabilityKey(cap), cap);
  }

  delete(cap: Capability): boolean {
    return this.caps.delete(capabilityKey(cap));
  }

  has(cap: Capability): boolean {
    return this.caps.has(capabilityKey(cap));
  }

  /** `has` for a key made once with capabilityKey: what the per-message checks use. */
  hasKey(key: string): boolean {
    return this.caps.has(key);
  }

  /** Remove every capability issued by `issuer` (an address string); returns how many went. */
  revokeIssuer(issuer: string): number {
    let n = 0;
    for (const [k, c] of this.caps) {
      if (addressToString(c.issuer) === issuer) {
        this.caps.delete(k);
        n++;
      }
    }
    return n;
  }

  list(): Capability[] {
    return [...this.caps.values()];
  }

  get size(): number {
    return this.caps.size;
  }
}

/** JSON form used in the process map and the kernel's Debug answers: `{"issuer": "...", "params": "..."}`. */
export function capabilityToJson(cap: Capability): { issuer: string; params: string } {
  return { issuer: addressToString(cap.issuer), params: cap.params };
}
