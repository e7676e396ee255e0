// The KernelMessage on the wire, in rmp-serde's encoding (see wire.ts for the rules): a writer
// and a reader by hand, because Vec<u8> goes out as an array of integers and a generic packer
// would build a JS array of numbers per body.

import {
  type Address,
  addressToString,
  type Capability,
  type KernelMessage,
  type LazyLoadBlob,
  type Message,
  parseAddress,
} from '../../../core/types.js';
import { pooledBytes } from './pooled.js';
import { pack, WireError } from './wire.js';

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

export function encodeKernelMessage(km: KernelMessage, sigs?: CapabilitySignatures): Uint8Array {
  return encodeKernelMessageFramed(km, sigs).subarray(4);
}

/**
 * The KernelMessage as it goes on the wire: its 4-byte big-endian length, then the MessagePack
 * (written in one buffer, so framing costs no copy).
 */
export function encodeKernelMessageFramed(km: KernelMessage, sigs?: CapabilitySignatures): Uint8Array {
  const w = new Writer(256 + 2 * (bodyLength(km) + (km.lazyLoadBlob?.bytes.length ?? 0)), 4);
  w.array(6);
  w.uint(km.id);
  w.address(km.source);
  w.address(km.target);
  if (km.rsvp) w.address(km.rsvp);
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
  const out = w.done(0);
  new DataView(out.buffer, out.byteOffset, 4).setUint32(0, out.length - 4, false);
  return out;
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
  private o: number;

  /**
   * `start` bytes are left free at the front (for a length prefix). Pooled: what is written is
   * only ever encrypted and sent (pooled.ts).
   */
  constructor(size: number, start = 0) {
    this.buf = pooledBytes(size + start);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
    this.o = start;
  }

  private room(n: number): void {
    if (this.o + n <= this.buf.length) return;
    const bigger = pooledBytes(Math.max(this.buf.length * 2, this.o + n));
    bigger.set(this.buf.subarray(0, this.o));
    this.buf = bigger;
    this.view = new DataView(bigger.buffer, bigger.byteOffset, bigger.length);
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

  private strHeader(len: number): void {
    this.room(5 + len);
    if (len < 32) this.buf[this.o++] = 0xa0 | len;
    else if (len < 256) {
      this.buf[this.o++] = 0xd9;
      this.buf[this.o++] = len;
    } else if (len < 65536) {
      this.buf[this.o++] = 0xda;
      this.view.setUint16(this.o, len);
      this.o += 2;
    } else {
      this.buf[this.o++] = 0xdb;
      this.view.setUint32(this.o, len);
      this.o += 4;
    }
  }

  /** Copy `s` at `o` if it is all ASCII; returns the offset after it, or -1 (nothing to undo). */
  private ascii(s: string, o: number): number {
    const buf = this.buf;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) return -1;
      buf[o++] = c;
    }
    return o;
  }

  str(s: string): void {
    // Short ASCII strings (names, addresses, variant tags) without a TextEncoder call.
    if (s.length <= 64) {
      const start = this.o;
      this.strHeader(s.length);
      const end = this.ascii(s, this.o);
      if (end >= 0) {
        this.o = end;
        return;
      }
      this.o = start;
    }
    const b = textEncoder.encode(s);
    this.strHeader(b.length);
    this.buf.set(b, this.o);
    this.o += b.length;
  }

  /** An Address as its string `node@process:package:publisher`, without building the string. */
  address(a: Address): void {
    const p = a.process;
    const len = a.node.length + p.processName.length + p.packageName.length + p.publisherNode.length + 3;
    const start = this.o;
    this.strHeader(len);
    let o = this.ascii(a.node, this.o);
    if (o >= 0) {
      this.buf[o++] = 0x40; // @
      o = this.ascii(p.processName, o);
    }
    if (o >= 0) {
      this.buf[o++] = 0x3a; // :
      o = this.ascii(p.packageName, o);
    }
    if (o >= 0) {
      this.buf[o++] = 0x3a;
      o = this.ascii(p.publisherNode, o);
    }
    if (o >= 0) {
      this.o = o;
      return;
    }
    this.o = start;
    this.str(addressToString(a));
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
      this.address(c.issuer);
      this.str(c.params);
      this.bytesAsArray(sigs ? sigs.sign(c) : new Uint8Array(0));
    }
  }

  /** What was written, from `from` (0 to include the space left at the front). */
  done(from = 0): Uint8Array {
    return this.buf.subarray(from, this.o);
  }
}

export function decodeKernelMessage(bytes: Uint8Array, sigs?: CapabilitySignatures): KernelMessage {
  const r = new Reader(bytes);
  if (r.arrayLen('KernelMessage') !== 6) throw new WireError('KernelMessage: expected an array of 6');
  const km: KernelMessage = {
    id: r.u64('id'),
    source: r.address('source'),
    target: r.address('target'),
    rsvp: r.nil() ? undefined : r.address('rsvp'),
    message: readMessage(r, sigs),
    lazyLoadBlob: readBlob(r),
  };
  if (r.o !== bytes.length) throw new WireError('KernelMessage: bytes left over after the message');
  return km;
}

function readMessage(r: Reader, sigs: CapabilitySignatures | undefined): Message {
  const tag = r.variant('message');
  if (tag === 'Request') {
    if (r.arrayLen('Request') !== 5) throw new WireError('Request: expected an array of 5');
    const inherit = r.bool('inherit');
    const expectsResponse = r.nil() ? undefined : r.u64('expects_response');
    const body = r.bytes('body');
    const metadata = r.optStr('metadata');
    return { tag: 'request', val: { inherit, expectsResponse, body, metadata, capabilities: readCaps(r, sigs) } };
  }
  if (tag === 'Response') {
    if (r.arrayLen('Response') !== 2 || r.arrayLen('Response') !== 4) throw new WireError('Response: expected [[inherit, body, metadata, capabilities], context]');
    const inherit = r.bool('inherit');
    const body = r.bytes('body');
    const metadata = r.optStr('metadata');
    const capabilities = readCaps(r, sigs);
    r.skip(); // the context: never meaningful across the network
    return { tag: 'response', val: [{ inherit, body, metadata, capabilities }, undefined] };
  }
  throw new WireError(`message: unknown variant ${tag}`);
}

function readCaps(r: Reader, sigs: CapabilitySignatures | undefined): Capability[] {
  const n = r.arrayLen('capabilities');
  const out: Capability[] = [];
  for (let i = 0; i < n; i++) {
    if (r.arrayLen('capability') !== 2 || r.arrayLen('capability') !== 2) throw new WireError('capability: expected [[issuer, params], signature]');
    const c = { issuer: r.address('capability issuer'), params: r.str('capability params') };
    const sig = r.bytes('capability signature');
    if (!sigs || sigs.accept(c, sig)) out.push(c);
  }
  return out;
}

function readBlob(r: Reader): LazyLoadBlob | undefined {
  if (r.nil()) return undefined;
  if (r.arrayLen('lazy_load_blob') !== 2) throw new WireError('lazy_load_blob: expected an array of 2');
  return { mime: r.optStr('blob mime'), bytes: r.bytes('blob bytes') };
}

const utf8Strict = new TextDecoder('utf-8', { fatal: true });
/** Parsed addresses by their string: the same few recur on every connection. */
const addressCache = new Map<string, Address>();
const ADDRESS_CACHE = 1024;

/**
 * A MessagePack reader for the KernelMessage shape: reads straight from the bytes, accepting
 * every encoding MessagePack allows for each value (any integer width, bin or an integer array
 * for bytes), so any encoder interoperates, without building a generic value tree first.
 */
class Reader {
  o = 0;
  private readonly view: DataView;
  constructor(private readonly b: Uint8Array) {
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }

  private need(n: number): void {
    if (this.o + n > this.b.length) throw new WireError('not MessagePack: the message ends early');
  }

  private byte(): number {
    this.need(1);
    return this.b[this.o++];
  }

  /** Consumes a nil if there is one. */
  nil(): boolean {
    this.need(1);
    if (this.b[this.o] !== 0xc0) return false;
    this.o++;
    return true;
  }

  bool(what: string): boolean {
    const t = this.byte();
    if (t === 0xc3) return true;
    if (t === 0xc2) return false;
    throw new WireError(`${what}: expected a bool`);
  }

  /** Any non-negative integer (as a number when it fits exactly). */
  private int(what: string): number | bigint {
    const t = this.byte();
    const v = this.view;
    let n: number | bigint;
    if (t <= 0x7f) return t;
    if (t >= 0xe0) n = t - 0x100;
    else {
      const width = t === 0xcc || t === 0xd0 ? 1 : t === 0xcd || t === 0xd1 ? 2 : t === 0xce || t === 0xd2 || t === 0xca ? 4 : t === 0xcf || t === 0xd3 || t === 0xcb ? 8 : 0;
      if (width === 0) throw new WireError(`${what}: expected an integer`);
      this.need(width);
      const o = this.o;
      this.o += width;
      if (t === 0xcc) n = v.getUint8(o);
      else if (t === 0xcd) n = v.getUint16(o);
      else if (t === 0xce) n = v.getUint32(o);
      else if (t === 0xcf) {
        const big = v.getBigUint64(o);
        n = big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
      } else if (t === 0xd0) n = v.getInt8(o);
      else if (t === 0xd1) n = v.getInt16(o);
      else if (t === 0xd2) n = v.getInt32(o);
      else if (t === 0xd3) n = v.getBigInt64(o);
      else n = t === 0xca ? v.getFloat32(o) : v.getFloat64(o);
      if (typeof n === 'number' && !Number.isInteger(n)) throw new WireError(`${what}: expected an integer`);
    }
    if (n < 0) throw new WireError(`${what}: expected a non-negative integer`);
    return n;
  }

  u64(what: string): bigint {
    const n = this.int(what);
    if (typeof n === 'bigint' && n >= 2n ** 64n) throw new WireError(`${what}: expected a u64`);
    return BigInt(n);
  }

  arrayLen(what: string): number {
    const t = this.byte();
    if (t >= 0x90 && t <= 0x9f) return t & 0x0f;
    if (t === 0xdc) return this.len(2);
    if (t === 0xdd) return this.len(4);
    throw new WireError(`${what}: expected an array`);
  }

  private mapLen(t: number): number {
    if (t >= 0x80 && t <= 0x8f) return t & 0x0f;
    if (t === 0xde) return this.len(2);
    if (t === 0xdf) return this.len(4);
    return -1;
  }

  private len(width: 1 | 2 | 4): number {
    this.need(width);
    const o = this.o;
    this.o += width;
    return width === 1 ? this.b[o] : width === 2 ? this.view.getUint16(o) : this.view.getUint32(o);
  }

  /** A string's byte length, or -1 (nothing consumed) when the next value is not a string. */
  private strLen(): number {
    this.need(1);
    const t = this.b[this.o];
    if (t >= 0xa0 && t <= 0xbf) {
      this.o++;
      return t & 0x1f;
    }
    if (t !== 0xd9 && t !== 0xda && t !== 0xdb) return -1;
    this.o++;
    return this.len(t === 0xd9 ? 1 : t === 0xda ? 2 : 4);
  }

  str(what: string): string {
    const n = this.strLen();
    if (n < 0) throw new WireError(`${what}: expected a string`);
    this.need(n);
    const b = this.b;
    const start = this.o;
    this.o += n;
    if (n <= 64) {
      // Short ASCII (names, addresses): one flat string, no TextDecoder call.
      for (let i = start; i < start + n; i++) if (b[i] > 0x7f) return this.utf8(start, n, what);
      return String.fromCharCode.apply(null, b.subarray(start, start + n) as unknown as number[]);
    }
    return this.utf8(start, n, what);
  }

  private utf8(start: number, n: number, what: string): string {
    try {
      return utf8Strict.decode(this.b.subarray(start, start + n));
    } catch {
      throw new WireError(`${what}: not UTF-8`);
    }
  }

  optStr(what: string): string | undefined {
    return this.nil() ? undefined : this.str(what);
  }

  address(what: string): Address {
    const s = this.str(what);
    let a = addressCache.get(s);
    if (!a) {
      try {
        a = parseAddress(s);
      } catch (e) {
        throw new WireError(`${what}: ${(e as Error).message}`);
      }
      if (addressCache.size >= ADDRESS_CACHE) addressCache.delete(addressCache.keys().next().value as string);
      addressCache.set(s, a);
    }
    // A copy: whoever receives the message may keep or change it.
    const p = a.process;
    return { node: a.node, process: { processName: p.processName, packageName: p.packageName, publisherNode: p.publisherNode } };
  }

  /** Vec<u8>: an array of integers 0-255 (rmp-serde's way) or bin. Always a fresh Uint8Array. */
  bytes(what: string): Uint8Array {
    this.need(1);
    const t = this.b[this.o];
    if (t === 0xc4 || t === 0xc5 || t === 0xc6) {
      this.o++;
      const n = this.len(t === 0xc4 ? 1 : t === 0xc5 ? 2 : 4);
      this.need(n);
      const out = new Uint8Array(this.b.subarray(this.o, this.o + n));
      this.o += n;
      return out;
    }
    const n = this.arrayLen(what);
    // Each element takes at least one byte: a length beyond what is left is a lie.
    this.need(n);
    const out = new Uint8Array(n);
    const b = this.b;
    let o = this.o;
    for (let i = 0; i < n; i++) {
      const x = b[o];
      if (x <= 0x7f) {
        out[i] = x;
        o++;
      } else if (x === 0xcc && o + 1 < b.length) {
        out[i] = b[o + 1];
        o += 2;
      } else {
        // A wider encoding of a small integer: legal MessagePack, if unusual.
        this.o = o;
        const v = this.int(what);
        if (typeof v !== 'number' || v > 255) throw new WireError(`${what}: not a byte array`);
        out[i] = v;
        o = this.o;
      }
    }
    this.o = o;
    return out;
  }

  /** A one-key map `{Variant: value}` (the value is read next) or a bare string variant. */
  variant(what: string): string {
    this.need(1);
    const t = this.b[this.o];
    const n = this.mapLen(t);
    if (n < 0) return this.str(what);
    this.o++;
    if (n !== 1) throw new WireError(`${what}: expected an enum variant`);
    return this.str(what);
  }

  /** Step over one value of any type. */
  skip(): void {
    const t = this.byte();
    let bytes = 0;
    let items = 0;
    if (t <= 0x7f || t >= 0xe0 || t === 0xc0 || t === 0xc2 || t === 0xc3) return;
    if (t >= 0xa0 && t <= 0xbf) bytes = t & 0x1f;
    else if (t >= 0x90 && t <= 0x9f) items = t & 0x0f;
    else if (t >= 0x80 && t <= 0x8f) items = 2 * (t & 0x0f);
    else if (t === 0xcc || t === 0xd0) bytes = 1;
    else if (t === 0xcd || t === 0xd1 || t === 0xd4) bytes = 2;
    else if (t === 0xd5) bytes = 3;
    else if (t === 0xce || t === 0xd2 || t === 0xca) bytes = 4;
    else if (t === 0xd6) bytes = 5;
    else if (t === 0xcf || t === 0xd3 || t === 0xcb) bytes = 8;
    else if (t === 0xd7) bytes = 9;
    else if (t === 0xd8) bytes = 17;
    else if (t === 0xd9 || t === 0xc4) bytes = this.len(1);
    else if (t === 0xda || t === 0xc5) bytes = this.len(2);
    else if (t === 0xdb || t === 0xc6) bytes = this.len(4);
    else if (t === 0xc7) bytes = 1 + this.len(1);
    else if (t === 0xc8) bytes = 1 + this.len(2);
    else if (t === 0xc9) bytes = 1 + this.len(4);
    else if (t === 0xdc) items = this.len(2);
    else if (t === 0xdd) items = this.len(4);
    else if (t === 0xde) items = 2 * this.len(2);
    else if (t === 0xdf) items = 2 * this.len(4);
    else throw new WireError('not MessagePack: 0xc1 is never used');
    this.need(bytes);
    this.o += bytes;
    for (let i = 0; i < items; i++) this.skip();
  }
}

