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
import {
  type Address,
  addressToString,
  type Capability,
  type KernelMessage,
  type LazyLoadBlob,
  type Message,
  parseAddress,
} from '../../types.js';

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

function u64In(v: unknown, what: string): bigint {
  if (typeof v === 'bigint' && v >= 0n) return v;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return BigInt(v);
  throw new WireError(`${what}: expected a u64`);
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new WireError(`${what}: expected a string`);
  return v;
}

function optStr(v: unknown, what: string): string | undefined {
  return v === null || v === undefined ? undefined : str(v, what);
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
// KernelMessage

/**
 * Capabilities cross the network with an Ed25519 signature by their issuer's node (Hyperdrive's
 * scheme, interop §10.3): the net module signs what it sends and checks what it receives.
 */
export interface CapabilitySignatures {
  /** The signature to send with `cap` (empty when there is none to give). */
  sign(cap: Capability): Uint8Array;
  /** Whether a received `cap` with `signature` reaches the target process. */
  accept(cap: Capability, signature: Uint8Array): boolean;
}

/** What is signed: `rmp_serde::to_vec(&Capability)`, the array `[issuer, params]`. */
export function capabilitySigningBytes(cap: Capability): Uint8Array {
  return pack([addressToString(cap.issuer), cap.params]);
}

function capsIn(v: unknown, sigs: CapabilitySignatures | undefined): Capability[] {
  const out: Capability[] = [];
  for (const entry of arr(v, 'capabilities')) {
    const [cap, sig] = arr(entry, 'capability', 2);
    const [issuer, params] = arr(cap, 'capability', 2);
    const c = { issuer: addr(issuer, 'capability issuer'), params: str(params, 'capability params') };
    if (!sigs || sigs.accept(c, bytesIn(sig, 'capability signature'))) out.push(c);
  }
  return out;
}

function blobIn(v: unknown): LazyLoadBlob | undefined {
  if (v === null || v === undefined) return undefined;
  const [mime, bytes] = arr(v, 'lazy_load_blob', 2);
  return { mime: optStr(mime, 'blob mime'), bytes: bytesIn(bytes, 'blob bytes') };
}

function messageIn(v: unknown, sigs: CapabilitySignatures | undefined): Message {
  const [tag, val] = variant(v, 'message');
  if (tag === 'Request') {
    const [inherit, expects, body, metadata, caps] = arr(val, 'Request', 5);
    return {
      tag: 'request',
      val: {
        inherit: bool(inherit, 'inherit'),
        expectsResponse: expects === null || expects === undefined ? undefined : u64In(expects, 'expects_response'),
        body: bytesIn(body, 'body'),
        metadata: optStr(metadata, 'metadata'),
        capabilities: capsIn(caps, sigs),
      },
    };
  }
  if (tag === 'Response') {
    const [resp] = arr(val, 'Response', 2);
    const [inherit, body, metadata, caps] = arr(resp, 'Response', 4);
    return {
      tag: 'response',
      val: [{ inherit: bool(inherit, 'inherit'), body: bytesIn(body, 'body'), metadata: optStr(metadata, 'metadata'), capabilities: capsIn(caps, sigs) }, undefined],
    };
  }
  throw new WireError(`message: unknown variant ${tag}`);
}

export function encodeKernelMessage(km: KernelMessage, sigs?: CapabilitySignatures): Uint8Array {
  const w = new Writer(256 + 2 * (bodyLength(km) + (km.lazyLoadBlob?.bytes.length ?? 0)));
  w.array(6);
  w.uint(km.id);
  w.str(addressToString(km.source));
  w.str(addressToString(km.target));
  if (km.rsvp) w.str(addressToString(km.rsvp));
  else w.nil();
  const m = km.message;
  w.map1(m.tag === 'request' ? 'Request' : 'Response');
  if (m.tag === 'request') {
    const r = m.val;
    w.array(5);
    w.bool(r.inherit);
    if (r.expectsResponse === undefined) w.nil();
    else w.uint(r.expectsResponse);
    w.bytesAsArray(r.body);
    w.optStr(r.metadata);
    w.caps(r.capabilities, sigs);
  } else {
    const [r] = m.val;
    // The context stays with the requester's kernel; it never crosses the network.
    w.array(2);
    w.array(4);
    w.bool(r.inherit);
    w.bytesAsArray(r.body);
    w.optStr(r.metadata);
    w.caps(r.capabilities, sigs);
    w.nil();
  }
  if (km.lazyLoadBlob) {
    w.array(2);
    w.optStr(km.lazyLoadBlob.mime);
    w.bytesAsArray(km.lazyLoadBlob.bytes);
  } else w.nil();
  return w.done();
}

function bodyLength(km: KernelMessage): number {
  return km.message.tag === 'request' ? km.message.val.body.length : km.message.val[0].body.length;
}

const textEncoder = new TextEncoder();

/**
 * A MessagePack writer for the KernelMessage shape, in rmp's smallest encodings. Written by hand
 * because Vec<u8> goes out as an array of integers, which through a generic packer would mean
 * a JS array of numbers per body (a second for 10 MB).
 */
class Writer {
  private buf: Uint8Array;
  private view: DataView;
  private o = 0;

  constructor(size: number) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
  }

  private room(n: number): void {
    if (this.o + n <= this.buf.length) return;
    const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.o + n));
    bigger.set(this.buf.subarray(0, this.o));
    this.buf = bigger;
    this.view = new DataView(bigger.buffer);
  }

  private byte(b: number): void {
    this.room(1);
    this.buf[this.o++] = b;
  }

  nil(): void {
    this.byte(0xc0);
  }

  bool(b: boolean): void {
    this.byte(b ? 0xc3 : 0xc2);
  }

  uint(n: bigint | number): void {
    const v = BigInt(n);
    this.room(9);
    if (v < 128n) this.buf[this.o++] = Number(v);
    else if (v < 256n) {
      this.buf[this.o++] = 0xcc;
      this.buf[this.o++] = Number(v);
    } else if (v < 65536n) {
      this.buf[this.o++] = 0xcd;
      this.view.setUint16(this.o, Number(v));
      this.o += 2;
    } else if (v < 4294967296n) {
      this.buf[this.o++] = 0xce;
      this.view.setUint32(this.o, Number(v));
      this.o += 4;
    } else {
      this.buf[this.o++] = 0xcf;
      this.view.setBigUint64(this.o, v);
      this.o += 8;
    }
  }

  private header(len: number, fix: number, fixMax: number, m16: number, m32: number): void {
    this.room(5);
    if (len <= fixMax) this.buf[this.o++] = fix | len;
    else if (len < 65536) {
      this.buf[this.o++] = m16;
      this.view.setUint16(this.o, len);
      this.o += 2;
    } else {
      this.buf[this.o++] = m32;
      this.view.setUint32(this.o, len);
      this.o += 4;
    }
  }

  array(len: number): void {
    this.header(len, 0x90, 15, 0xdc, 0xdd);
  }

  /** A one-entry map with a string key: an enum variant with a value. */
  map1(key: string): void {
    this.byte(0x81);
    this.str(key);
  }

  str(s: string): void {
    const b = textEncoder.encode(s);
    this.room(5 + b.length);
    if (b.length < 32) this.buf[this.o++] = 0xa0 | b.length;
    else if (b.length < 256) {
      this.buf[this.o++] = 0xd9;
      this.buf[this.o++] = b.length;
    } else if (b.length < 65536) {
      this.buf[this.o++] = 0xda;
      this.view.setUint16(this.o, b.length);
      this.o += 2;
    } else {
      this.buf[this.o++] = 0xdb;
      this.view.setUint32(this.o, b.length);
      this.o += 4;
    }
    this.buf.set(b, this.o);
    this.o += b.length;
  }

  optStr(s: string | undefined): void {
    if (s === undefined) this.nil();
    else this.str(s);
  }

  bytesAsArray(b: Uint8Array): void {
    this.array(b.length);
    this.room(2 * b.length);
    const buf = this.buf;
    let o = this.o;
    for (let i = 0; i < b.length; i++) {
      const x = b[i];
      if (x < 128) buf[o++] = x;
      else {
        buf[o++] = 0xcc;
        buf[o++] = x;
      }
    }
    this.o = o;
  }

  caps(caps: Capability[], sigs: CapabilitySignatures | undefined): void {
    // Vec<(Capability, Vec<u8>)>
    this.array(caps.length);
    for (const c of caps) {
      this.array(2);
      this.array(2);
      this.str(addressToString(c.issuer));
      this.str(c.params);
      this.bytesAsArray(sigs ? sigs.sign(c) : new Uint8Array(0));
    }
  }

  done(): Uint8Array {
    return this.buf.subarray(0, this.o);
  }
}

export function decodeKernelMessage(bytes: Uint8Array, sigs?: CapabilitySignatures): KernelMessage {
  let v: unknown;
  try {
    v = unpack(bytes);
  } catch (e) {
    throw new WireError(`not MessagePack: ${(e as Error).message}`);
  }
  const [id, source, target, rsvp, message, blob] = arr(v, 'KernelMessage', 6);
  return {
    id: u64In(id, 'id'),
    source: addr(source, 'source'),
    target: addr(target, 'target'),
    rsvp: rsvp === null || rsvp === undefined ? undefined : addr(rsvp, 'rsvp'),
    message: messageIn(message, sigs),
    lazyLoadBlob: blobIn(blob),
  };
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

/** Reassembles length-prefixed messages from decrypted chunks. */
export class Reassembler {
  private parts: Uint8Array[] = [];
  private have = 0;
  private need = -1;

  /** Feed one decrypted chunk; returns every message it completes. Throws WireError on a bad length. */
  push(chunk: Uint8Array): Uint8Array[] {
    this.parts.push(chunk);
    this.have += chunk.length;
    const done: Uint8Array[] = [];
    for (;;) {
      if (this.need < 0) {
        if (this.have < 4) return done;
        const head = this.take(4);
        this.need = new DataView(head.buffer, head.byteOffset, 4).getUint32(0, false);
        if (this.need > MAX_WIRE_MESSAGE) throw new WireError(`peer announced a ${this.need}-byte message, over the ${MAX_WIRE_MESSAGE}-byte limit`);
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
