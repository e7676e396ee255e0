// The node's Ed25519 networking key, kept in `<home>/.net-key.json`, encrypted with the node
// password: key = scrypt(password, salt, N=2^14, r=8, p=1, 32 bytes) (Node's native scrypt),
// cipher = XChaCha20-Poly1305 (@noble/ciphers) with a random 24-byte nonce. The public key is
// stored in clear so tools can read it without the password. An absent password is the empty
// string: the file is then only obscured, not protected (fake nodes usually have none).

import { randomBytes, scryptSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { ed25519 } from '@noble/curves/ed25519.js';

export const NET_KEY_FILE = '.net-key.json';
const SCRYPT = { N: 2 ** 14, r: 8, p: 1 };

export interface NetKey {
  /** 32-byte Ed25519 secret key (seed). */
  secretKey: Uint8Array;
  publicKey: Uint8Array;
  /** Lowercase hex of the public key, no 0x: what `~net-key` holds and HnsUpdate carries. */
  publicKeyHex: string;
}

export class NetKeyError extends Error {
  override name = 'NetKeyError';
}

interface KeyFile {
  version: 1;
  kdf: 'scrypt';
  N: number;
  r: number;
  p: number;
  salt: string;
  cipher: 'xchacha20poly1305';
  nonce: string;
  ciphertext: string;
  public_key: string;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));

function derive(password: string, salt: Uint8Array, f: { N: number; r: number; p: number }): Uint8Array {
  return new Uint8Array(scryptSync(password, salt, 32, { N: f.N, r: f.r, p: f.p, maxmem: 256 * f.N * f.r }));
}

export function netKeyFromSecret(secretKey: Uint8Array): NetKey {
  const publicKey = ed25519.getPublicKey(secretKey);
  return { secretKey, publicKey, publicKeyHex: hex(publicKey) };
}

/** Load the node's networking key from its home, or make and save one. */
export function loadOrCreateNetKey(home: string, password = ''): NetKey {
  const path = join(home, NET_KEY_FILE);
  if (existsSync(path)) return loadNetKey(path, password);
  const key = netKeyFromSecret(ed25519.utils.randomSecretKey());
  const salt = randomBytes(16);
  const nonce = randomBytes(24);
  const ciphertext = xchacha20poly1305(derive(password, salt, SCRYPT), nonce).encrypt(key.secretKey);
  const file: KeyFile = {
    version: 1,
    kdf: 'scrypt',
    ...SCRYPT,
    salt: hex(salt),
    cipher: 'xchacha20poly1305',
    nonce: hex(nonce),
    ciphertext: hex(ciphertext),
    public_key: key.publicKeyHex,
  };
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
  return key;
}

function loadNetKey(path: string, password: string): NetKey {
  let file: KeyFile;
  try {
    file = JSON.parse(readFileSync(path, 'utf8')) as KeyFile;
  } catch (e) {
    throw new NetKeyError(`cannot read the networking key ${path}: ${(e as Error).message}. Remove it to make a new key.`);
  }
  if (file.version !== 1 || file.kdf !== 'scrypt' || file.cipher !== 'xchacha20poly1305')
    throw new NetKeyError(`${path} is not a networking key this kit understands (version ${String(file.version)})`);
  let secret: Uint8Array;
  try {
    secret = xchacha20poly1305(derive(password, unhex(file.salt), file), unhex(file.nonce)).decrypt(unhex(file.ciphertext));
  } catch {
    throw new NetKeyError(
      `the networking key in ${path} does not decrypt with this password: boot with the password the node was made with, ` +
        'or remove the file to make a new key (its onchain ~net-key must then be updated)',
    );
  }
  const key = netKeyFromSecret(secret);
  if (key.publicKeyHex !== file.public_key) throw new NetKeyError(`${path} is corrupt: its public key does not match its secret key`);
  return key;
}

/** Read the public key hex without the password, or undefined if the node has no key yet. */
export function readNetPublicKey(home: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(home, NET_KEY_FILE), 'utf8')) as KeyFile).public_key;
  } catch {
    return undefined;
  }
}
