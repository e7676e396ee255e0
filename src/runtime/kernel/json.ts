// JSON forms of kernel types, as Hyperdrive's serde writes them (interop §0.2-0.4, §10.4):
// ProcessId and Address as strings, Vec<u8> as number arrays, OnExit as "None" | "Restart" | {"Requests": [...]}.

import {
  type Address,
  addressToString,
  type Capability,
  type LazyLoadBlob,
  type OnExit,
  parseAddress,
  type Request,
} from '../../core/types.js';

export interface CapabilityJson {
  issuer: string;
  params: string;
}

export interface RequestJson {
  inherit: boolean;
  expects_response: number | null;
  body: number[];
  metadata: string | null;
  capabilities: Array<[CapabilityJson, number[]]> | CapabilityJson[];
}

export interface BlobJson {
  mime: string | null;
  bytes: number[];
}

export type OnExitJson = 'None' | 'Restart' | { Requests: Array<[string, RequestJson, BlobJson | null]> };

export function capabilityFromJson(c: CapabilityJson): Capability {
  if (!c || typeof c.issuer !== 'string' || typeof c.params !== 'string')
    throw new Error('a capability must be {"issuer": "node@process:package:publisher", "params": "<json string>"}');
  return { issuer: parseAddress(c.issuer), params: c.params };
}

export function capabilityToJson(c: Capability): CapabilityJson {
  return { issuer: addressToString(c.issuer), params: c.params };
}

function blobFromJson(b: BlobJson | null): LazyLoadBlob | undefined {
  if (!b) return undefined;
  return { mime: b.mime ?? undefined, bytes: Uint8Array.from(b.bytes) };
}

function blobToJson(b: LazyLoadBlob | undefined): BlobJson | null {
  return b ? { mime: b.mime ?? null, bytes: [...b.bytes] } : null;
}

export function requestFromJson(r: RequestJson): Request {
  const caps = (r.capabilities ?? []).map((c) => capabilityFromJson(Array.isArray(c) ? c[0] : c));
  return {
    inherit: !!r.inherit,
    expectsResponse: r.expects_response == null ? undefined : BigInt(r.expects_response),
    body: Uint8Array.from(r.body ?? []),
    metadata: r.metadata ?? undefined,
    capabilities: caps,
  };
}

export function requestToJson(r: Request): RequestJson {
  return {
    inherit: r.inherit,
    expects_response: r.expectsResponse === undefined ? null : Number(r.expectsResponse),
    body: [...r.body],
    metadata: r.metadata ?? null,
    capabilities: r.capabilities.map((c) => [capabilityToJson(c), []]),
  };
}

export function onExitFromJson(o: OnExitJson | undefined | null): OnExit {
  if (o === undefined || o === null || o === 'None') return { tag: 'none' };
  if (o === 'Restart') return { tag: 'restart' };
  if (typeof o === 'object' && Array.isArray(o.Requests)) {
    return {
      tag: 'requests',
      val: o.Requests.map(([addr, req, blob]) => [parseAddress(addr), requestFromJson(req), blobFromJson(blob)]),
    };
  }
  throw new Error(`unknown on_exit ${JSON.stringify(o)}: expected "None", "Restart" or {"Requests": [...]}`);
}

export function onExitToJson(o: OnExit): OnExitJson {
  if (o.tag === 'none') return 'None';
  if (o.tag === 'restart') return 'Restart';
  return {
    Requests: o.val.map(([addr, req, blob]) => [addressToString(addr as Address), requestToJson(req), blobToJson(blob)]),
  };
}
