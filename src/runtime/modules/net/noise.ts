// Noise_XX_25519_ChaChaPoly_BLAKE2s, written from the Noise Protocol Framework spec (rev 34):
// X25519 and BLAKE2s from @noble, HKDF as Noise defines it (HMAC-BLAKE2s), and ChaCha20-Poly1305
// (nonce = 4 zero bytes + 64-bit LE counter, the IETF layout): our own for small messages
// (chacha.ts; no per-call setup), node:crypto for large ones (faster per byte).
//
//   -> e
//   <- e, ee, s, es
//   -> s, se

import { createCipheriv, createDecipheriv } from 'node:crypto';
import { x25519 } from '@noble/curves/ed25519.js';
import { blake2s } from '@noble/hashes/blake2.js';
import { hmac } from '@noble/hashes/hmac.js';
import { LITTLE_ENDIAN, SmallAead } from './chacha.js';
import { concatBytes } from '../../../core/bytes.js';

export const PROTOCOL_NAME = 'Noise_XX_25519_ChaChaPoly_BLAKE2s';
const HASHLEN = 32;
const DHLEN = 32;
const TAGLEN = 16;
/** Noise messages are at most 65535 bytes. */
export const MAX_NOISE_MESSAGE = 65535;
/** The largest plaintext that fits one transport message. */
export const MAX_PLAINTEXT = MAX_NOISE_MESSAGE - TAGLEN;

export class NoiseError extends Error {
  override name = 'NoiseError';
}

export interface KeyPair {
  secretKey: Uint8Array;
  publicKey: Uint8Array;
}

export function generateKeyPair(secretKey: Uint8Array = x25519.utils.randomSecretKey()): KeyPair {
  return { secretKey, publicKey: x25519.getPublicKey(secretKey) };
}

function hash(data: Uint8Array): Uint8Array {
  return blake2s(data);
}

/** HKDF of the Noise spec (section 4.3), with HMAC-BLAKE2s; returns two or three outputs. */
export function noiseHkdf(chainingKey: Uint8Array, ikm: Uint8Array, outputs: 2 | 3): Uint8Array[] {
  const temp = hmac(blake2s, chainingKey, ikm);
  const o1 = hmac(blake2s, temp, Uint8Array.of(1));
  const o2 = hmac(blake2s, temp, concatBytes([o1, Uint8Array.of(2)]));
  if (outputs === 2) return [o1, o2];
  return [o1, o2, hmac(blake2s, temp, concatBytes([o2, Uint8Array.of(3)]))];
}

/** Counters stop here: a connection would need 2^53 messages (centuries) to reach it. */
const MAX_NONCE = Number.MAX_SAFE_INTEGER;
const EMPTY = new Uint8Array(0);
/** Up to this many plaintext bytes, chacha.ts beats node:crypto's fixed cost per call. */
const SMALL_MAX = 512;

export class CipherState {
  private k?: Buffer;
  private small?: SmallAead;
  private n = 0;
  /** 4 zero bytes, then the counter as u64 little-endian: rewritten in place per message. */
  private readonly nonce = Buffer.alloc(12);

  initializeKey(k: Uint8Array | undefined): void {
    this.k = k ? Buffer.from(k) : undefined;
    this.small = k && LITTLE_ENDIAN ? new SmallAead(k) : undefined;
    this.n = 0;
  }

  hasKey(): boolean {
    return this.k !== undefined;
  }

  private nextNonce(): Buffer {
    if (this.n >= MAX_NONCE) throw new NoiseError('nonce exhausted: the connection must be re-established');
    const n = this.n++;
    this.nonce.writeUInt32LE(n >>> 0, 4);
    this.nonce.writeUInt32LE(Math.floor(n / 0x1_0000_0000), 8);
    return this.nonce;
  }

  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    return this.k ? this.seal(ad, plaintext) : plaintext;
  }

  /** Encrypt `body`, the ciphertext written after `room` free bytes (for a frame header). */
  seal(ad: Uint8Array, body: Uint8Array, room = 0): Uint8Array {
    if (!this.k) throw new NoiseError('no key');
    if (this.small && body.length <= SMALL_MAX) return this.small.seal(this.nextNonce(), ad, EMPTY, body, room);
    const c = createCipheriv('chacha20-poly1305', this.k, this.nextNonce(), { authTagLength: TAGLEN });
    if (ad.length > 0) c.setAAD(ad, { plaintextLength: body.length });
    const out = Buffer.allocUnsafe(room + body.length + TAGLEN);
    let o = room;
    o += c.update(body).copy(out, o);
    c.final();
    c.getAuthTag().copy(out, o);
    return out;
  }

  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    if (!this.k) return ciphertext;
    if (ciphertext.length < TAGLEN) throw new NoiseError('decryption failed: the message is shorter than its tag');
    const end = ciphertext.length - TAGLEN;
    // The counter advances only on success (as in the spec): a forged message does not desync us.
    const n = this.n;
    if (this.small && end <= SMALL_MAX) {
      const out = this.small.open(this.nextNonce(), ad, ciphertext);
      if (out) return out;
      this.n = n;
      throw new NoiseError('decryption failed: the peer sent a message that does not authenticate');
    }
    const d = createDecipheriv('chacha20-poly1305', this.k, this.nextNonce(), { authTagLength: TAGLEN });
    let out: Buffer;
    try {
      if (ad.length > 0) d.setAAD(ad, { plaintextLength: end });
      d.setAuthTag(ciphertext.subarray(end));
      out = d.update(ciphertext.subarray(0, end));
      d.final();
    } catch {
      this.n = n;
      throw new NoiseError('decryption failed: the peer sent a message that does not authenticate');
    }
    return out;
  }
}

class SymmetricState {
  readonly cipher = new CipherState();
  ck: Uint8Array;
  h: Uint8Array;

  constructor(protocolName: string) {
    const name = new TextEncoder().encode(protocolName);
    // A name of at most HASHLEN bytes is zero-padded; a longer one is hashed.
    if (name.length <= HASHLEN) {
      this.h = new Uint8Array(HASHLEN);
      this.h.set(name);
    } else this.h = hash(name);
    this.ck = this.h.slice();
  }

  mixKey(ikm: Uint8Array): void {
    const [ck, tempK] = noiseHkdf(this.ck, ikm, 2);
    this.ck = ck;
    this.cipher.initializeKey(tempK.slice(0, 32));
  }

  mixHash(data: Uint8Array): void {
    this.h = hash(concatBytes([this.h, data]));
  }

  encryptAndHash(plaintext: Uint8Array): Uint8Array {
    const c = this.cipher.encryptWithAd(this.h, plaintext);
    this.mixHash(c);
    return c;
  }

  decryptAndHash(ciphertext: Uint8Array): Uint8Array {
    const p = this.cipher.decryptWithAd(this.h, ciphertext);
    this.mixHash(ciphertext);
    return p;
  }

  split(): [CipherState, CipherState] {
    const [k1, k2] = noiseHkdf(this.ck, new Uint8Array(0), 2);
    const c1 = new CipherState();
    const c2 = new CipherState();
    c1.initializeKey(k1.slice(0, 32));
    c2.initializeKey(k2.slice(0, 32));
    return [c1, c2];
  }
}

/** The two directions of an established Noise session. */
export class TransportState {
  constructor(
    private readonly sendCipher: CipherState,
    private readonly recvCipher: CipherState,
    /** The peer's static X25519 public key, authenticated by the handshake. */
    readonly remoteStatic: Uint8Array,
    readonly handshakeHash: Uint8Array,
  ) {}

  /** One transport message; `room` free bytes are left in front of it (for a frame header). */
  encrypt(body: Uint8Array, room = 0): Uint8Array {
    if (body.length > MAX_PLAINTEXT) throw new NoiseError(`plaintext of ${body.length} bytes is over ${MAX_PLAINTEXT}`);
    return this.sendCipher.seal(EMPTY, body, room);
  }

  decrypt(ciphertext: Uint8Array): Uint8Array {
    if (ciphertext.length > MAX_NOISE_MESSAGE) throw new NoiseError(`message of ${ciphertext.length} bytes is over ${MAX_NOISE_MESSAGE}`);
    return this.recvCipher.decryptWithAd(EMPTY, ciphertext);
  }
}

export interface HandshakeOptions {
  initiator: boolean;
  staticKey: KeyPair;
  prologue?: Uint8Array;
  /** Fixed ephemeral key, for test vectors only. */
  ephemeral?: KeyPair;
}

/**
 * One XX handshake. Call writeMessage/readMessage in turn (initiator writes first); after the
 * third message `finish()` returns the transport.
 */
export class XXHandshake {
  private readonly ss = new SymmetricState(PROTOCOL_NAME);
  private readonly s: KeyPair;
  private e?: KeyPair;
  private re?: Uint8Array;
  private rs?: Uint8Array;
  private step = 0;
  readonly initiator: boolean;
  private readonly fixedEphemeral?: KeyPair;

  constructor(opts: HandshakeOptions) {
    this.initiator = opts.initiator;
    this.s = opts.staticKey;
    this.fixedEphemeral = opts.ephemeral;
    this.ss.mixHash(opts.prologue ?? new Uint8Array(0));
  }

  /** The peer's static key, known after message 2 (initiator) or 3 (responder). */
  get remoteStatic(): Uint8Array | undefined {
    return this.rs;
  }

  get complete(): boolean {
    return this.step === 3;
  }

  private dh(priv: KeyPair | undefined, pub: Uint8Array | undefined): Uint8Array {
    if (!priv || !pub) throw new NoiseError('handshake out of order');
    return x25519.getSharedSecret(priv.secretKey, pub);
  }

  private myTurn(): boolean {
    // Message 0 and 2 are the initiator's, message 1 the responder's.
    return (this.step % 2 === 0) === this.initiator;
  }

  writeMessage(payload: Uint8Array = new Uint8Array(0)): Uint8Array {
    if (this.step >= 3 || !this.myTurn()) throw new NoiseError('not our turn to write a handshake message');
    const parts: Uint8Array[] = [];
    const ss = this.ss;
    if (this.step === 0) {
      this.e = this.fixedEphemeral ?? generateKeyPair();
      ss.mixHash(this.e.publicKey);
      parts.push(this.e.publicKey);
    } else if (this.step === 1) {
      this.e = this.fixedEphemeral ?? generateKeyPair();
      ss.mixHash(this.e.publicKey);
      parts.push(this.e.publicKey);
      ss.mixKey(this.dh(this.e, this.re)); // ee
      parts.push(ss.encryptAndHash(this.s.publicKey)); // s
      ss.mixKey(this.dh(this.s, this.re)); // es (responder: DH(s, re))
    } else {
      parts.push(ss.encryptAndHash(this.s.publicKey)); // s
      ss.mixKey(this.dh(this.s, this.re)); // se (initiator: DH(s, re))
    }
    parts.push(ss.encryptAndHash(payload));
    this.step++;
    const out = concatBytes(parts);
    if (out.length > MAX_NOISE_MESSAGE) throw new NoiseError('handshake message too long');
    return out;
  }

  readMessage(message: Uint8Array): Uint8Array {
    if (this.step >= 3 || this.myTurn()) throw new NoiseError('not our turn to read a handshake message');
    if (message.length > MAX_NOISE_MESSAGE) throw new NoiseError('handshake message too long');
    const ss = this.ss;
    let rest = message;
    const take = (n: number) => {
      if (rest.length < n) throw new NoiseError(`handshake message ${this.step + 1} is too short`);
      const out = rest.subarray(0, n);
      rest = rest.subarray(n);
      return out;
    };
    if (this.step === 0) {
      this.re = take(DHLEN).slice();
      ss.mixHash(this.re);
    } else if (this.step === 1) {
      this.re = take(DHLEN).slice();
      ss.mixHash(this.re);
      ss.mixKey(this.dh(this.e, this.re)); // ee
      this.rs = ss.decryptAndHash(take(DHLEN + TAGLEN)).slice(); // s
      ss.mixKey(this.dh(this.e, this.rs)); // es (initiator: DH(e, rs))
    } else {
      this.rs = ss.decryptAndHash(take(DHLEN + TAGLEN)).slice(); // s
      ss.mixKey(this.dh(this.e, this.rs)); // se (responder: DH(e, rs))
    }
    const payload = ss.decryptAndHash(rest);
    this.step++;
    return payload;
  }

  finish(): TransportState {
    if (!this.complete || !this.rs) throw new NoiseError('handshake not complete');
    const [c1, c2] = this.ss.split();
    // c1 carries initiator -> responder, c2 the other way.
    return this.initiator
      ? new TransportState(c1, c2, this.rs, this.ss.h)
      : new TransportState(c2, c1, this.rs, this.ss.h);
  }
}
