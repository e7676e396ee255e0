// Capabilities this process holds. A capability is an issuer Address plus params (a JSON document
// in a string); two are the same when the issuers match and the params parse to equal JSON.

import { type Address, type Capability, canonicalJson, capabilityKey } from '../core/types.js';
import { host } from './host.js';
import { toAddress } from './ids.js';
import { toJson } from './json.js';

export type { Capability };

/** Every capability this process holds. */
export function ourCapabilities(): Capability[] {
  return host.ourCapabilities();
}

/** A capability value: params may be a JSON string (as on the wire) or any value to encode. */
export function capability(issuer: Address | string, params: unknown): Capability {
  return { issuer: toAddress(issuer), params: typeof params === 'string' ? params : toJson(params) };
}

/** The messaging capability for `issuer` (params `"messaging"`). */
export function messagingCapability(issuer: Address | string): Capability {
  return capability(issuer, '"messaging"');
}

/** The capability we hold from `issuer` with these params, or undefined. */
export function getCapability(issuer: Address | string, params: unknown): Capability | undefined {
  const want = capabilityKey(capability(issuer, params));
  return host.ourCapabilities().find((c) => capabilityKey(c) === want);
}

/** Whether we hold a capability from `issuer` with these params. */
export function hasCapability(issuer: Address | string, params: unknown): boolean {
  return getCapability(issuer, params) !== undefined;
}

/**
 * Keep capabilities, e.g. those attached to a message. The kernel adds any capability it is given,
 * as Hyperdrive's does; what it allows is checked where it is used.
 */
export function saveCapabilities(caps: Capability[]): void {
  if (caps.length > 0) host.saveCapabilities(caps);
}

/** Give up capabilities. */
export function dropCapabilities(caps: Capability[]): void {
  if (caps.length > 0) host.dropCapabilities(caps);
}

/** Params compared by meaning, not by key order or spacing. */
export function sameParams(a: string, b: string): boolean {
  try {
    return canonicalJson(JSON.parse(a)) === canonicalJson(JSON.parse(b));
  } catch {
    return a === b;
  }
}
