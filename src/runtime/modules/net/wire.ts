// What goes over the wire between nodes, encoded as rmp-serde 1.3 (default config) encodes the
// Rust types of Hyperdrive's `lib` (interop §0.2, §5.5):
// - structs are arrays in field order; enums are a bare string (unit variant) or a single-key map
//   `{Variant: value}` (newtype, tuple and struct variants, the latter with an array of fields);
// - Option::None is nil; Address and ProcessId are strings ("node@proc:pkg:pub");
// - Vec<u8> (no serde_bytes in lib) is an array of integers; we accept bin as well on decode;
// - u64 uses the smallest integer encoding (rmp's write_uint); the KernelMessage has its own
//   writer below, other bodies go through msgpackr.
// No msgpackr record extension (`useRecords: false`), so any MessagePack decoder can read us.

import { Packr } from 'msgpackr';
import { raiseWith } from '../../quotas.js';
import {
  type Address,
  addressToString,
  parseAddress,
} from '../../../core/types.js';

const packr = new Packr({ useRecords: false, variableMapSize: true, int64AsType: 'bigint', mapsAsObjects: true });

export class WireError extends Error {
  override name = 'WireError';
}

export function pack(value: unknown): Uint8Array {
  return packr.pack(value);
}

export function unpack(bytes: Uint8Array): unknown {
  return packr.unpack(bytes);
}

// ---------------------------------------------------------------------------
// Field helpers

function bytesOut(b: Uint8Array): number[] {
  // Vec<u8> without serde_bytes: a MessagePack array of u8.
  return Array.from(b);
}

function bytesIn(v: unknown, what: string): Uint8Array {
  if (v instanceof Uint8Array) return new Uint8Array(v);
  if (Array.isArray(v)) {
    const out = new Uint8Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (typeof x !== 'number' || x < 0 || x > 255 || !Number.isInteger(x)) throw new WireError(`${what}: not a byte array`);
      out[i] = x;
    }
    return out;
  }
  throw new WireError(`${what}: expected bytes`);
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new WireError(`${what}: expected a string`);
  return v;
}

function arr(v: unknown, what: string, len?: number): unknown[] {
  if (!Array.isArray(v) || (len !== undefined && v.length !== len)) throw new WireError(`${what}: expected an array${len ? ` of ${len}` : ''}`);
  return v;
}

function addr(v: unknown, what: string): Address {
  try {
    return parseAddress(str(v, what));
  } catch (e) {
    throw new WireError(`${what}: ${(e as Error).message}`);
  }
}

function bool(v: unknown, what: string): boolean {
  if (typeof v !== 'boolean') throw new WireError(`${what}: expected a bool`);
  return v;
}

/** A single-key map `{Variant: value}` or a bare string variant. */
function variant(v: unknown, what: string): [string, unknown] {
  if (typeof v === 'string') return [v, undefined];
  if (v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array)) {
    const keys = Object.keys(v);
    if (keys.length === 1) return [keys[0], (v as Record<string, unknown>)[keys[0]]];
  }
  throw new WireError(`${what}: expected an enum variant`);
}

// ---------------------------------------------------------------------------
// Handshake payload (book: Networking Protocol 4.1)

export interface HandshakePayload {
  protocolVersion: number;
  name: string;
  /** Ed25519 signature by the node's networking key over its Noise static public key. */
  signature: Uint8Array;
  proxyRequest: boolean;
}

export function encodeHandshakePayload(p: HandshakePayload): Uint8Array {
  return pack([p.protocolVersion, p.name, bytesOut(p.signature), p.proxyRequest]);
}

export function decodeHandshakePayload(bytes: Uint8Array): HandshakePayload {
  let v: unknown;
  try {
    v = unpack(bytes);
  } catch {
    throw new WireError('handshake payload is not MessagePack');
  }
  const [version, name, signature, proxy] = arr(v, 'HandshakePayload', 4);
  if (typeof version !== 'number') throw new WireError('protocol_version: expected a u8');
  return { protocolVersion: version, name: str(name, 'name'), signature: bytesIn(signature, 'signature'), proxyRequest: bool(proxy, 'proxy_request') };
}

// ---------------------------------------------------------------------------
// RoutingRequest (book: Networking Protocol 4.1), sent in clear to a router before the handshake

export interface RoutingRequest {
  protocolVersion: number;
  /** The node asking to be connected. */
  source: string;
  /** Ed25519 by the source's networking key over `target ++ router name`. */
  signature: Uint8Array;
  /** The node to be connected to. */
  target: string;
}

export function encodeRoutingRequest(r: RoutingRequest): Uint8Array {
  return pack([r.protocolVersion, r.source, bytesOut(r.signature), r.target]);
}

export function decodeRoutingRequest(bytes: Uint8Array): RoutingRequest {
  let v: unknown;
  try {
    v = unpack(bytes);
  } catch {
    throw new WireError('routing request is not MessagePack');
  }
  const [version, source, signature, target] = arr(v, 'RoutingRequest', 4);
  if (typeof version !== 'number') throw new WireError('protocol_version: expected a u8');
  return { protocolVersion: version, source: str(source, 'source'), signature: bytesIn(signature, 'signature'), target: str(target, 'target') };
}

// ---------------------------------------------------------------------------
// Net API (book: Net API): NetAction in, NetResponse out

export interface HnsUpdate {
  name: string;
  publicKey: string;
  ips: string[];
  ports: Record<string, number>;
  routers: string[];
}

export type NetAction =
  | { kind: 'ConnectionRequest'; node: string }
  | { kind: 'HnsUpdate'; update: HnsUpdate }
  | { kind: 'HnsBatchUpdate'; updates: HnsUpdate[] }
  | { kind: 'GetPeers' }
  | { kind: 'GetPeer'; node: string }
  | { kind: 'GetDiagnostics' }
  | { kind: 'Sign' }
  | { kind: 'Verify'; from: Address; signature: Uint8Array };

function hnsUpdateIn(v: unknown): HnsUpdate {
  const [name, publicKey, ips, ports, routers] = arr(v, 'HnsUpdate', 5);
  if (!ports || typeof ports !== 'object' || Array.isArray(ports)) throw new WireError('HnsUpdate ports: expected a map');
  const portMap: Record<string, number> = {};
  for (const [k, p] of Object.entries(ports as Record<string, unknown>)) {
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p > 65535) throw new WireError(`HnsUpdate port ${k}: expected a u16`);
    portMap[k] = p;
  }
  return {
    name: str(name, 'HnsUpdate name'),
    publicKey: str(publicKey, 'HnsUpdate public_key'),
    ips: arr(ips, 'HnsUpdate ips').map((x) => str(x, 'ip')),
    ports: portMap,
    routers: arr(routers, 'HnsUpdate routers').map((x) => str(x, 'router')),
  };
}

export function hnsUpdateOut(u: HnsUpdate): unknown {
  return [u.name, u.publicKey, u.ips, u.ports, u.routers];
}

/** The body hns-indexer sends: `{"HnsUpdate": [name, public_key, [ips], {ports}, [routers]]}`. */
export function encodeHnsUpdate(u: HnsUpdate): Uint8Array {
  return pack({ HnsUpdate: hnsUpdateOut(u) });
}

export function encodeNetAction(a: NetAction): Uint8Array {
  switch (a.kind) {
    case 'ConnectionRequest':
      return pack({ ConnectionRequest: a.node });
    case 'HnsUpdate':
      return encodeHnsUpdate(a.update);
    case 'HnsBatchUpdate':
      return pack({ HnsBatchUpdate: a.updates.map(hnsUpdateOut) });
    case 'GetPeer':
      return pack({ GetPeer: a.node });
    case 'Verify':
      return pack({ Verify: [addressToString(a.from), bytesOut(a.signature)] });
    default:
      return pack(a.kind);
  }
}

/** Parse a Request body as a NetAction; undefined when it is not one (e.g. a `hi` message). */
export function decodeNetAction(bytes: Uint8Array): NetAction | undefined {
  // Every NetAction starts as a string (unit variant) or a one-key map; anything else (most
  // text) is not one, and is answered without the cost of a failed parse.
  const b0 = bytes[0];
  if (bytes.length === 0 || !((b0 >= 0xa0 && b0 <= 0xbf) || b0 === 0xd9 || b0 === 0xda || b0 === 0xdb || b0 === 0x81 || b0 === 0xde || b0 === 0xdf))
    return undefined;
  let v: unknown;
  try {
    const values = packr.unpackMultiple(bytes) as unknown[] | undefined;
    // A body that is several MessagePack values (plain text often is) is not a NetAction.
    if (values?.length !== 1) return undefined;
    v = values[0];
  } catch {
    return undefined;
  }
  try {
    const [tag, val] = variant(v, 'NetAction');
    switch (tag) {
      case 'ConnectionRequest':
        return { kind: 'ConnectionRequest', node: str(val, 'node') };
      case 'HnsUpdate':
        return { kind: 'HnsUpdate', update: hnsUpdateIn(val) };
      case 'HnsBatchUpdate':
        return { kind: 'HnsBatchUpdate', updates: arr(val, 'HnsBatchUpdate').map(hnsUpdateIn) };
      case 'GetPeers':
      case 'GetDiagnostics':
      case 'Sign':
        return val === undefined ? { kind: tag } : undefined;
      case 'GetPeer':
        return { kind: 'GetPeer', node: str(val, 'node') };
      case 'Verify': {
        const [from, signature] = arr(val, 'Verify', 2);
        return { kind: 'Verify', from: addr(from, 'from'), signature: bytesIn(signature, 'signature') };
      }
      default:
        return undefined;
    }
  } catch {
    return undefined;
  }
}

/** Hyperdrive's `Identity {name, networking_key, routing}`; routing `Direct{ip, ports}` or `Routers(..)`. */
export interface Identity {
  name: string;
  networkingKey: string;
  routing: { direct: { ip: string; ports: Record<string, number> } } | { routers: string[] };
}

export function identityOut(i: Identity): unknown {
  const routing = 'direct' in i.routing ? { Direct: [i.routing.direct.ip, i.routing.direct.ports] } : { Routers: i.routing.routers };
  return [i.name, i.networkingKey, routing];
}

// ---------------------------------------------------------------------------
// Framing: 4-byte big-endian length, then the MessagePack, cut into Noise-sized chunks.

/** The largest serialized KernelMessage a peer may send (interop §5.5). */
export const MAX_WIRE_MESSAGE = 10_485_800;

export function frame(encoded: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + encoded.length);
  new DataView(out.buffer).setUint32(0, encoded.length, false);
  out.set(encoded, 4);
  return out;
}

export function* chunks(framed: Uint8Array, size: number): Generator<Uint8Array> {
  for (let o = 0; o < framed.length; o += size) yield framed.subarray(o, Math.min(o + size, framed.length));
}

/** A peer went over one of this node's quotas (not the protocol's): worth a line in the log. */
export class QuotaError extends WireError {
  override name = 'QuotaError';
}

/** A connection is dropped for announcing a message larger than it may buffer. */
export function overBuffer(bytes: number, limit: number): QuotaError {
  return new QuotaError(`peer announced a ${bytes}-byte message, over this node's limit of ${limit} bytes buffered per connection (${raiseWith('maxBufferedBytes')} raises it)`);
}

/** Reassembles length-prefixed messages from decrypted chunks. */
export class Reassembler {
  private parts: Uint8Array[] = [];
  private have = 0;
  private need = -1;

  /** `limit`: the largest message taken (this node's per-connection buffer may be below the network's). */
  constructor(private readonly limit = MAX_WIRE_MESSAGE) {}

  /** Feed one decrypted chunk; returns every message it completes. Throws WireError on a bad length. */
  push(chunk: Uint8Array): Uint8Array[] {
    // The usual case: one chunk holding exactly one whole message, handed on without a copy.
    if (this.need < 0 && this.have === 0 && chunk.length >= 4) {
      const n = new DataView(chunk.buffer, chunk.byteOffset, 4).getUint32(0, false);
      if (n === chunk.length - 4) return [new Uint8Array(chunk.buffer, chunk.byteOffset + 4, n)];
    }
    this.parts.push(chunk);
    this.have += chunk.length;
    const done: Uint8Array[] = [];
    for (;;) {
      if (this.need < 0) {
        if (this.have < 4) return done;
        const head = this.take(4);
        this.need = new DataView(head.buffer, head.byteOffset, 4).getUint32(0, false);
        if (this.need > MAX_WIRE_MESSAGE) throw new WireError(`peer announced a ${this.need}-byte message, over the ${MAX_WIRE_MESSAGE}-byte limit`);
        if (this.need > this.limit) throw overBuffer(this.need, this.limit);
      }
      if (this.have < this.need) return done;
      done.push(this.take(this.need));
      this.need = -1;
    }
  }

  private take(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let o = 0;
    while (o < n) {
      const p = this.parts[0];
      const k = Math.min(p.length, n - o);
      out.set(p.subarray(0, k), o);
      o += k;
      if (k === p.length) this.parts.shift();
      else this.parts[0] = p.subarray(k);
    }
    this.have -= n;
    return out;
  }
}
