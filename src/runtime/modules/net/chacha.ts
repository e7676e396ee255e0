// ChaCha20-Poly1305 (RFC 8439) for small messages, written from the RFC. node:crypto's AEAD costs
// a few microseconds per call just to set up (a cipher object per nonce), which dominates a
// 100-byte KernelMessage; this does the whole thing in well under that. Large messages go to
// node:crypto (see noise.ts), which is faster per byte. Both produce the same bytes (tested).

import { pooledBytes } from './pooled.js';

const TAG = 16;
const SIGMA = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]; // "expand 32-byte k"

/** The ChaCha20 state words are read and written as little-endian bytes through a view. */
export const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

const rotl = (x: number, n: number) => (x << n) | (x >>> (32 - n));

/** One ChaCha20 block (20 rounds) of `input` (16 words) into `out`. */
function block(input: Uint32Array, out: Uint32Array): void {
  let x0 = input[0];
  let x1 = input[1];
  let x2 = input[2];
  let x3 = input[3];
  let x4 = input[4];
  let x5 = input[5];
  let x6 = input[6];
  let x7 = input[7];
  let x8 = input[8];
  let x9 = input[9];
  let x10 = input[10];
  let x11 = input[11];
  let x12 = input[12];
  let x13 = input[13];
  let x14 = input[14];
  let x15 = input[15];
  for (let i = 0; i < 10; i++) {
    // Columns
    x0 = (x0 + x4) | 0;
    x12 = rotl(x12 ^ x0, 16);
    x8 = (x8 + x12) | 0;
    x4 = rotl(x4 ^ x8, 12);
    x0 = (x0 + x4) | 0;
    x12 = rotl(x12 ^ x0, 8);
    x8 = (x8 + x12) | 0;
    x4 = rotl(x4 ^ x8, 7);

    x1 = (x1 + x5) | 0;
    x13 = rotl(x13 ^ x1, 16);
    x9 = (x9 + x13) | 0;
    x5 = rotl(x5 ^ x9, 12);
    x1 = (x1 + x5) | 0;
    x13 = rotl(x13 ^ x1, 8);
    x9 = (x9 + x13) | 0;
    x5 = rotl(x5 ^ x9, 7);

    x2 = (x2 + x6) | 0;
    x14 = rotl(x14 ^ x2, 16);
    x10 = (x10 + x14) | 0;
    x6 = rotl(x6 ^ x10, 12);
    x2 = (x2 + x6) | 0;
    x14 = rotl(x14 ^ x2, 8);
    x10 = (x10 + x14) | 0;
    x6 = rotl(x6 ^ x10, 7);

    x3 = (x3 + x7) | 0;
    x15 = rotl(x15 ^ x3, 16);
    x11 = (x11 + x15) | 0;
    x7 = rotl(x7 ^ x11, 12);
    x3 = (x3 + x7) | 0;
    x15 = rotl(x15 ^ x3, 8);
    x11 = (x11 + x15) | 0;
    x7 = rotl(x7 ^ x11, 7);

    // Diagonals
    x0 = (x0 + x5) | 0;
    x15 = rotl(x15 ^ x0, 16);
    x10 = (x10 + x15) | 0;
    x5 = rotl(x5 ^ x10, 12);
    x0 = (x0 + x5) | 0;
    x15 = rotl(x15 ^ x0, 8);
    x10 = (x10 + x15) | 0;
    x5 = rotl(x5 ^ x10, 7);

    x1 = (x1 + x6) | 0;
    x12 = rotl(x12 ^ x1, 16);
    x11 = (x11 + x12) | 0;
    x6 = rotl(x6 ^ x11, 12);
    x1 = (x1 + x6) | 0;
    x12 = rotl(x12 ^ x1, 8);
    x11 = (x11 + x12) | 0;
    x6 = rotl(x6 ^ x11, 7);

    x2 = (x2 + x7) | 0;
    x13 = rotl(x13 ^ x2, 16);
    x8 = (x8 + x13) | 0;
    x7 = rotl(x7 ^ x8, 12);
    x2 = (x2 + x7) | 0;
    x13 = rotl(x13 ^ x2, 8);
    x8 = (x8 + x13) | 0;
    x7 = rotl(x7 ^ x8, 7);

    x3 = (x3 + x4) | 0;
    x14 = rotl(x14 ^ x3, 16);
    x9 = (x9 + x14) | 0;
    x4 = rotl(x4 ^ x9, 12);
    x3 = (x3 + x4) | 0;
    x14 = rotl(x14 ^ x3, 8);
    x9 = (x9 + x14) | 0;
    x4 = rotl(x4 ^ x9, 7);
  }
  out[0] = x0 + input[0];
  out[1] = x1 + input[1];
  out[2] = x2 + input[2];
  out[3] = x3 + input[3];
  out[4] = x4 + input[4];
  out[5] = x5 + input[5];
  out[6] = x6 + input[6];
  out[7] = x7 + input[7];
  out[8] = x8 + input[8];
  out[9] = x9 + input[9];
  out[10] = x10 + input[10];
  out[11] = x11 + input[11];
  out[12] = x12 + input[12];
  out[13] = x13 + input[13];
  out[14] = x14 + input[14];
  out[15] = x15 + input[15];
}

/**
 * Poly1305 over GF(2^130 - 5) in ten 13-bit limbs, so every product and sum stays an exact
 * integer in a double (the largest, a sum of ten 14-bit x 16-bit products, is under 2^34).
 */
class Poly1305 {
  private readonly r = new Float64Array(10);
  private readonly h = new Float64Array(10);
  private readonly d = new Float64Array(10);
  private readonly pad = new Uint16Array(8);
  private readonly scratch = new Uint8Array(16);
  private readonly words = new Uint16Array(8);

  init(key: Uint8Array): void {
    // r is clamped (RFC 8439 2.5): top 4 bits of bytes 3, 7, 11, 15 and low 2 of 4, 8, 12 cleared.
    const k = key;
    const t0 = k[0] | (k[1] << 8);
    const t1 = (k[2] | (k[3] << 8)) & 0x0fff;
    const t2 = (k[4] | (k[5] << 8)) & 0xfffc;
    const t3 = (k[6] | (k[7] << 8)) & 0x0fff;
    const t4 = (k[8] | (k[9] << 8)) & 0xfffc;
    const t5 = (k[10] | (k[11] << 8)) & 0x0fff;
    const t6 = (k[12] | (k[13] << 8)) & 0xfffc;
    const t7 = (k[14] | (k[15] << 8)) & 0x0fff;
    limbs(this.r, t0, t1, t2, t3, t4, t5, t6, t7, 0);
    for (let i = 0; i < 8; i++) this.pad[i] = k[16 + 2 * i] | (k[17 + 2 * i] << 8);
    this.h.fill(0);
  }

  /** Absorb `data`, zero-padded to a multiple of 16 bytes (how the AEAD feeds it). */
  padded(data: Uint8Array, from: number, to: number): void {
    const full = from + ((to - from) & ~15);
    if (full > from) this.blocks(data, from, full);
    if (full < to) {
      const s = this.scratch;
      s.fill(0);
      s.set(data.subarray(full, to));
      this.blocks(s, 0, 16);
    }
  }

  /**
   * Full 16-byte blocks (each with the 2^128 bit) from `from` to `to`: h = (h + m) * r mod
   * 2^130 - 5 for each. h and r stay in locals for the whole run, which halves the cost of a
   * short message against a call per block.
   */
  blocks(m: Uint8Array, from: number, to: number): void {
    const h = this.h;
    const r = this.r;
    let h0 = h[0], h1 = h[1], h2 = h[2], h3 = h[3], h4 = h[4], h5 = h[5], h6 = h[6], h7 = h[7], h8 = h[8], h9 = h[9];
    const r0 = r[0], r1 = r[1], r2 = r[2], r3 = r[3], r4 = r[4], r5 = r[5], r6 = r[6], r7 = r[7], r8 = r[8], r9 = r[9];
    // f_k = 5 * r_k: products at position k + 10 fold back times 5 (2^130 = 5 mod p).
    const f1 = 5 * r1, f2 = 5 * r2, f3 = 5 * r3, f4 = 5 * r4, f5 = 5 * r5, f6 = 5 * r6, f7 = 5 * r7, f8 = 5 * r8, f9 = 5 * r9;
    for (let o = from; o < to; o += 16) {
      const t0 = m[o] | (m[o + 1] << 8);
      const t1 = m[o + 2] | (m[o + 3] << 8);
      const t2 = m[o + 4] | (m[o + 5] << 8);
      const t3 = m[o + 6] | (m[o + 7] << 8);
      const t4 = m[o + 8] | (m[o + 9] << 8);
      const t5 = m[o + 10] | (m[o + 11] << 8);
      const t6 = m[o + 12] | (m[o + 13] << 8);
      const t7 = m[o + 14] | (m[o + 15] << 8);
      h0 += t0 & 0x1fff;
      h1 += ((t0 >>> 13) | (t1 << 3)) & 0x1fff;
      h2 += ((t1 >>> 10) | (t2 << 6)) & 0x1fff;
      h3 += ((t2 >>> 7) | (t3 << 9)) & 0x1fff;
      h4 += ((t3 >>> 4) | (t4 << 12)) & 0x1fff;
      h5 += (t4 >>> 1) & 0x1fff;
      h6 += ((t4 >>> 14) | (t5 << 2)) & 0x1fff;
      h7 += ((t5 >>> 11) | (t6 << 5)) & 0x1fff;
      h8 += ((t6 >>> 8) | (t7 << 8)) & 0x1fff;
      h9 += (t7 >>> 5) | (1 << 11);
      let d0 = h0 * r0 + h1 * f9 + h2 * f8 + h3 * f7 + h4 * f6 + h5 * f5 + h6 * f4 + h7 * f3 + h8 * f2 + h9 * f1;
      let d1 = h0 * r1 + h1 * r0 + h2 * f9 + h3 * f8 + h4 * f7 + h5 * f6 + h6 * f5 + h7 * f4 + h8 * f3 + h9 * f2;
      let d2 = h0 * r2 + h1 * r1 + h2 * r0 + h3 * f9 + h4 * f8 + h5 * f7 + h6 * f6 + h7 * f5 + h8 * f4 + h9 * f3;
      let d3 = h0 * r3 + h1 * r2 + h2 * r1 + h3 * r0 + h4 * f9 + h5 * f8 + h6 * f7 + h7 * f6 + h8 * f5 + h9 * f4;
      let d4 = h0 * r4 + h1 * r3 + h2 * r2 + h3 * r1 + h4 * r0 + h5 * f9 + h6 * f8 + h7 * f7 + h8 * f6 + h9 * f5;
      let d5 = h0 * r5 + h1 * r4 + h2 * r3 + h3 * r2 + h4 * r1 + h5 * r0 + h6 * f9 + h7 * f8 + h8 * f7 + h9 * f6;
      let d6 = h0 * r6 + h1 * r5 + h2 * r4 + h3 * r3 + h4 * r2 + h5 * r1 + h6 * r0 + h7 * f9 + h8 * f8 + h9 * f7;
      let d7 = h0 * r7 + h1 * r6 + h2 * r5 + h3 * r4 + h4 * r3 + h5 * r2 + h6 * r1 + h7 * r0 + h8 * f9 + h9 * f8;
      let d8 = h0 * r8 + h1 * r7 + h2 * r6 + h3 * r5 + h4 * r4 + h5 * r3 + h6 * r2 + h7 * r1 + h8 * r0 + h9 * f9;
      const d9 = h0 * r9 + h1 * r8 + h2 * r7 + h3 * r6 + h4 * r5 + h5 * r4 + h6 * r3 + h7 * r2 + h8 * r1 + h9 * r0;
      let c = Math.floor(d0 / 8192);
      h0 = d0 - c * 8192;
      d1 += c;
      c = Math.floor(d1 / 8192);
      h1 = d1 - c * 8192;
      d2 += c;
      c = Math.floor(d2 / 8192);
      h2 = d2 - c * 8192;
      d3 += c;
      c = Math.floor(d3 / 8192);
      h3 = d3 - c * 8192;
      d4 += c;
      c = Math.floor(d4 / 8192);
      h4 = d4 - c * 8192;
      d5 += c;
      c = Math.floor(d5 / 8192);
      h5 = d5 - c * 8192;
      d6 += c;
      c = Math.floor(d6 / 8192);
      h6 = d6 - c * 8192;
      d7 += c;
      c = Math.floor(d7 / 8192);
      h7 = d7 - c * 8192;
      d8 += c;
      c = Math.floor(d8 / 8192);
      h8 = d8 - c * 8192;
      const e9 = d9 + c;
      c = Math.floor(e9 / 8192);
      h9 = e9 - c * 8192;
      d0 = h0 + c * 5;
      c = Math.floor(d0 / 8192);
      h0 = d0 - c * 8192;
      h1 += c;
    }
    h[0] = h0;
    h[1] = h1;
    h[2] = h2;
    h[3] = h3;
    h[4] = h4;
    h[5] = h5;
    h[6] = h6;
    h[7] = h7;
    h[8] = h8;
    h[9] = h9;
  }

  /** The tag: h fully reduced mod 2^130 - 5, plus s, mod 2^128, little-endian. */
  finish(out: Uint8Array, o: number): void {
    const h = this.h;
    let c: number;
    do {
      c = 0;
      for (let k = 0; k < 10; k++) {
        const v = h[k] + c;
        c = Math.floor(v / 8192);
        h[k] = v - c * 8192;
      }
      h[0] += c * 5;
    } while (c !== 0);
    // Every limb is under 2^13 now; h - p = h + 5 - 2^130 if that is not negative.
    const g = this.d;
    c = 5;
    for (let k = 0; k < 10; k++) {
      const v = h[k] + c;
      c = Math.floor(v / 8192);
      g[k] = v - c * 8192;
    }
    const x = c > 0 ? g : h; // carry out of bit 130: h >= p
    const w = this.words;
    w[0] = x[0] | (x[1] << 13);
    w[1] = (x[1] >>> 3) | (x[2] << 10);
    w[2] = (x[2] >>> 6) | (x[3] << 7);
    w[3] = (x[3] >>> 9) | (x[4] << 4);
    w[4] = (x[4] >>> 12) | (x[5] << 1) | (x[6] << 14);
    w[5] = (x[6] >>> 2) | (x[7] << 11);
    w[6] = (x[7] >>> 5) | (x[8] << 8);
    w[7] = (x[8] >>> 8) | (x[9] << 5);
    let carry = 0;
    for (let i = 0; i < 8; i++) {
      const v = w[i] + this.pad[i] + carry;
      carry = v >>> 16;
      out[o + 2 * i] = v & 0xff;
      out[o + 2 * i + 1] = (v >>> 8) & 0xff;
    }
  }
}

const u32le = (b: Uint8Array, o: number) => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;

function limbs(x: Float64Array, t0: number, t1: number, t2: number, t3: number, t4: number, t5: number, t6: number, t7: number, hibit: number): void {
  x[0] = t0 & 0x1fff;
  x[1] = ((t0 >>> 13) | (t1 << 3)) & 0x1fff;
  x[2] = ((t1 >>> 10) | (t2 << 6)) & 0x1fff;
  x[3] = ((t2 >>> 7) | (t3 << 9)) & 0x1fff;
  x[4] = ((t3 >>> 4) | (t4 << 12)) & 0x1fff;
  x[5] = (t4 >>> 1) & 0x1fff;
  x[6] = ((t4 >>> 14) | (t5 << 2)) & 0x1fff;
  x[7] = ((t5 >>> 11) | (t6 << 5)) & 0x1fff;
  x[8] = ((t6 >>> 8) | (t7 << 8)) & 0x1fff;
  x[9] = (t7 >>> 5) | hibit;
}

/** ChaCha20-Poly1305 with one 32-byte key; reuses its buffers, so one instance per direction. */
export class SmallAead {
  private readonly state = new Uint32Array(16);
  private readonly stream = new Uint32Array(16);
  private readonly streamBytes = new Uint8Array(this.stream.buffer);
  private readonly poly = new Poly1305();
  private readonly lengths = new Uint8Array(16);
  private readonly lengthsView = new DataView(this.lengths.buffer);
  private readonly tag = new Uint8Array(TAG);

  constructor(key: Uint8Array) {
    if (key.length !== 32) throw new Error('ChaCha20-Poly1305 needs a 32-byte key');
    const s = this.state;
    s.set(SIGMA, 0);
    const kv = new DataView(key.buffer, key.byteOffset, 32);
    for (let i = 0; i < 8; i++) s[4 + i] = kv.getUint32(4 * i, true);
  }

  /** Set the 12-byte nonce (as words) and derive the Poly1305 key from block 0. */
  private begin(nonce: Uint8Array, ad: Uint8Array): void {
    const s = this.state;
    s[12] = 0;
    s[13] = u32le(nonce, 0);
    s[14] = u32le(nonce, 4);
    s[15] = u32le(nonce, 8);
    block(s, this.stream);
    this.poly.init(this.streamBytes);
    if (ad.length > 0) this.poly.padded(ad, 0, ad.length);
  }

  /** XOR the keystream (block counter 1 on) into data[from, to). */
  private xor(data: Uint8Array, from: number, to: number): void {
    const s = this.state;
    const ks = this.streamBytes;
    s[12] = 1;
    for (let o = from; o < to; o += 64) {
      block(s, this.stream);
      s[12]++;
      const n = Math.min(64, to - o);
      for (let i = 0; i < n; i++) data[o + i] ^= ks[i];
    }
  }

  private macLengths(adLen: number, ctLen: number): void {
    const l = this.lengths;
    const v = this.lengthsView;
    v.setUint32(0, adLen >>> 0, true);
    v.setUint32(4, Math.floor(adLen / 0x1_0000_0000), true);
    v.setUint32(8, ctLen >>> 0, true);
    v.setUint32(12, Math.floor(ctLen / 0x1_0000_0000), true);
    this.poly.blocks(l, 0, 16);
  }

  /** Encrypt head ++ body; returns ciphertext ++ tag in a new buffer, after `room` bytes left free. */
  seal(nonce: Uint8Array, ad: Uint8Array, head: Uint8Array, body: Uint8Array, room = 0): Uint8Array {
    const n = head.length + body.length;
    // Every byte from `room` on is written below.
    const out = pooledBytes(room + n + TAG);
    out.set(head, room);
    out.set(body, room + head.length);
    this.begin(nonce, ad);
    this.xor(out, room, room + n);
    this.poly.padded(out, room, room + n);
    this.macLengths(ad.length, n);
    this.poly.finish(out, room + n);
    return out;
  }

  /** Check the tag and decrypt; undefined when the message does not authenticate. */
  open(nonce: Uint8Array, ad: Uint8Array, sealed: Uint8Array): Uint8Array | undefined {
    const n = sealed.length - TAG;
    if (n < 0) return undefined;
    this.begin(nonce, ad);
    this.poly.padded(sealed, 0, n);
    this.macLengths(ad.length, n);
    const tag = this.tag;
    this.poly.finish(tag, 0);
    let diff = 0;
    for (let i = 0; i < TAG; i++) diff |= tag[i] ^ sealed[n + i];
    if (diff !== 0) return undefined;
    // Always new bytes, so the caller's are never changed.
    const out = pooledBytes(n);
    this.xorFrom(sealed, out, n);
    return out;
  }

  /** out[0, n) = src[0, n) ^ keystream: decrypt without copying the ciphertext first. */
  private xorFrom(src: Uint8Array, out: Uint8Array, n: number): void {
    const s = this.state;
    const ks = this.streamBytes;
    s[12] = 1;
    for (let o = 0; o < n; o += 64) {
      block(s, this.stream);
      s[12]++;
      const m = Math.min(64, n - o);
      for (let i = 0; i < m; i++) out[o + i] = src[o + i] ^ ks[i];
    }
  }
}
