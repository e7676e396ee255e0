// Web3 Secret Storage v3 keystores (the JSON files `cast wallet import` and geth write): decrypt
// with the password to get the private key, and encrypt one (tests and `kit` users making a
// keystore). KDF scrypt or pbkdf2 (hmac-sha256); cipher aes-128-ctr; the MAC is
// keccak256(derivedKey[16..32] ‖ ciphertext) and is checked before anything is decrypted.

import { ctr } from '@noble/ciphers/aes.js';
import { pbkdf2Async } from '@noble/hashes/pbkdf2.js';
import { scryptAsync } from '@noble/hashes/scrypt.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { KitError } from '../cli/errors.js';
import { concatBytes } from '../core/bytes.js';

export class KeystoreError extends KitError {
  override name = 'KeystoreError';
}

/** The password opened the file but the MAC does not match: almost always a wrong password. */
export class WrongPasswordError extends KeystoreError {
  override name = 'WrongPasswordError';
}

export interface ScryptParams {
  dklen: number;
  n: number;
  r: number;
  p: number;
  salt: string;
}

export interface Pbkdf2Params {
  dklen: number;
  c: number;
  prf: 'hmac-sha256';
  salt: string;
}

export interface KeystoreV3 {
  version: 3;
  id: string;
  address?: string;
  crypto: {
    cipher: 'aes-128-ctr';
    cipherparams: { iv: string };
    ciphertext: string;
    kdf: 'scrypt' | 'pbkdf2';
    kdfparams: ScryptParams | Pbkdf2Params;
    mac: string;
  };
}

function hexBytes(v: unknown, field: string, len?: number): Uint8Array {
  if (typeof v !== 'string' || !/^(0x)?([0-9a-fA-F]{2})*$/.test(v)) throw new KeystoreError(`keystore: ${field} is not hex`);
  const b = Uint8Array.from(Buffer.from(v.replace(/^0x/, ''), 'hex'));
  if (len !== undefined && b.length !== len) throw new KeystoreError(`keystore: ${field} must be ${len} bytes, got ${b.length}`);
  return b;
}

function num(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) throw new KeystoreError(`keystore: kdfparams.${field} must be a positive whole number`);
  return v;
}

const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

async function deriveKey(kdf: unknown, params: Record<string, unknown>, password: string): Promise<Uint8Array> {
  const pw = new TextEncoder().encode(password.normalize('NFKC'));
  const salt = hexBytes(params.salt, 'kdfparams.salt');
  const dkLen = num(params.dklen, 'dklen');
  if (dkLen < 32) throw new KeystoreError('keystore: kdfparams.dklen must be at least 32');
  if (kdf === 'scrypt') {
    const N = num(params.n, 'n');
    const r = num(params.r, 'r');
    const p = num(params.p, 'p');
    // noble's default cap is 1 GiB; standard keystores use up to 256 MiB (n=2^18, r=8).
    return scryptAsync(pw, salt, { N, r, p, dkLen, maxmem: 2 ** 31 });
  }
  if (kdf === 'pbkdf2') {
    if (params.prf !== 'hmac-sha256') throw new KeystoreError(`keystore: pbkdf2 prf ${JSON.stringify(params.prf)} is not supported (only hmac-sha256)`);
    return pbkdf2Async(sha256, pw, salt, { c: num(params.c, 'c'), dkLen });
  }
  throw new KeystoreError(`keystore: kdf ${JSON.stringify(kdf)} is not supported (scrypt or pbkdf2)`);
}

/** Parse and shape-check a keystore file's text. Accepts `Crypto` (geth's old capitalisation) too. */
export function parseKeystore(text: string, where = 'keystore'): KeystoreV3 {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new KeystoreError(`${where} is not JSON: ${(e as Error).message}`, { hint: 'pass a Web3 Secret Storage (v3) keystore file, e.g. from `cast wallet import`' });
  }
  if (!raw || typeof raw !== 'object') throw new KeystoreError(`${where} is not a keystore object`);
  if (raw.version !== 3) throw new KeystoreError(`${where} is keystore version ${JSON.stringify(raw.version)}; only version 3 is supported`);
  const crypto = (raw.crypto ?? raw.Crypto) as KeystoreV3['crypto'] | undefined;
  if (!crypto || typeof crypto !== 'object') throw new KeystoreError(`${where} has no "crypto" section`);
  if (crypto.cipher !== 'aes-128-ctr') throw new KeystoreError(`${where}: cipher ${JSON.stringify(crypto.cipher)} is not supported (aes-128-ctr)`);
  if (!crypto.kdfparams || typeof crypto.kdfparams !== 'object') throw new KeystoreError(`${where} has no kdfparams`);
  return { ...(raw as unknown as KeystoreV3), crypto };
}

/** The private key (32 bytes) in a v3 keystore. Throws WrongPasswordError when the MAC does not match. */
export async function decryptKeystore(ks: KeystoreV3 | string, password: string): Promise<Uint8Array> {
  const k = typeof ks === 'string' ? parseKeystore(ks) : ks;
  const c = k.crypto;
  const dk = await deriveKey(c.kdf, c.kdfparams as unknown as Record<string, unknown>, password);
  const ciphertext = hexBytes(c.ciphertext, 'ciphertext');
  const mac = keccak_256(concatBytes([dk.subarray(16, 32), ciphertext]));
  if (toHex(mac) !== toHex(hexBytes(c.mac, 'mac', 32))) {
    throw new WrongPasswordError('wrong password: the keystore does not decrypt with it (MAC mismatch)', {
      hint: 'check the password (KIT_KEYSTORE_PASSWORD, if set, is used instead of asking)',
    });
  }
  const iv = hexBytes(c.cipherparams?.iv, 'cipherparams.iv', 16);
  return ctr(dk.subarray(0, 16), iv).decrypt(ciphertext);
}

export interface EncryptOptions {
  kdf?: 'scrypt' | 'pbkdf2';
  /** scrypt N (default 2^18, as geth/cast) or pbkdf2 iterations (default 262144). */
  cost?: number;
  salt?: Uint8Array;
  iv?: Uint8Array;
  id?: string;
}

/** Encrypt a private key as a v3 keystore (defaults match geth's "standard" scrypt parameters). */
export async function encryptKeystore(privateKey: Uint8Array, password: string, opts: EncryptOptions = {}): Promise<KeystoreV3> {
  const kdf = opts.kdf ?? 'scrypt';
  const salt = opts.salt ?? randomBytes(32);
  const iv = opts.iv ?? randomBytes(16);
  const kdfparams: ScryptParams | Pbkdf2Params =
    kdf === 'scrypt'
      ? { dklen: 32, n: opts.cost ?? 262144, r: 8, p: 1, salt: toHex(salt) }
      : { dklen: 32, c: opts.cost ?? 262144, prf: 'hmac-sha256', salt: toHex(salt) };
  const dk = await deriveKey(kdf, kdfparams as unknown as Record<string, unknown>, password);
  const ciphertext = ctr(dk.subarray(0, 16), iv).encrypt(privateKey);
  const mac = keccak_256(concatBytes([dk.subarray(16, 32), ciphertext]));
  return {
    version: 3,
    id: opts.id ?? uuid4(),
    crypto: { cipher: 'aes-128-ctr', cipherparams: { iv: toHex(iv) }, ciphertext: toHex(ciphertext), kdf, kdfparams, mac: toHex(mac) },
  };
}

function uuid4(): string {
  const b = randomBytes(16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = toHex(b);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
