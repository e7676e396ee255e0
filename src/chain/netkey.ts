// The node's Ed25519 networking key, kept in `<home>/.keys` encrypted with the password
// (AES-256-GCM, key from scrypt). Used until the net module provides its own key handling.

import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';

export interface NetKey {
  /** 32-byte Ed25519 secret (seed). */
  secretKey: Uint8Array;
  /** 32-byte Ed25519 public key. */
  publicKey: Uint8Array;
  /** Lowercase hex of the public key, no 0x: what `~net-key` and HnsUpdate carry. */
  publicKeyHex: string;
}

export class NetKeyError extends Error {
  override name = 'NetKeyError';
}

interface KeyFile {
  version: 1;
  name: string;
  routers: string[];
  salt: string;
  /** hex(nonce12 ‖ ciphertext ‖ tag16) */
  networking_key: string;
}

function fromSecret(secretKey: Uint8Array): NetKey {
  const publicKey = ed25519.getPublicKey(secretKey);
  return { secretKey, publicKey, publicKeyHex: Buffer.from(publicKey).toString('hex') };
}

function diskKey(password: string, salt: Buffer): Buffer {
  return scryptSync(password, salt, 32, { N: 1 << 14, r: 8, p: 1 });
}

export function keysPath(home: string): string {
  return join(home, '.keys');
}

/** Load the key in `<home>/.keys` (wrong password -> NetKeyError) or make and save a new one. */
export function loadOrCreateNetKey(home: string, name: string, password: string, routers: string[] = []): NetKey {
  const file = keysPath(home);
  if (existsSync(file)) {
    let kf: KeyFile;
    try {
      kf = JSON.parse(readFileSync(file, 'utf8')) as KeyFile;
    } catch {
      throw new NetKeyError(`${file} is not a kit key file; delete it to make a new networking key`);
    }
    if (kf.version === 1 && kf.name === name) {
      const blob = Buffer.from(kf.networking_key, 'hex');
      try {
        const d = createDecipheriv('aes-256-gcm', diskKey(password, Buffer.from(kf.salt, 'hex')), blob.subarray(0, 12));
        d.setAuthTag(blob.subarray(blob.length - 16));
        const secret = Buffer.concat([d.update(blob.subarray(12, blob.length - 16)), d.final()]);
        return fromSecret(new Uint8Array(secret));
      } catch {
        throw new NetKeyError(`cannot decrypt the networking key in ${file}: wrong --password?`);
      }
    }
    // A key file for another name: this home is being reused for a new node; make a new key.
  }
  const key = fromSecret(ed25519.utils.randomSecretKey());
  const salt = randomBytes(32);
  const nonce = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', diskKey(password, salt), nonce);
  const ct = Buffer.concat([c.update(key.secretKey), c.final(), c.getAuthTag()]);
  const kf: KeyFile = { version: 1, name, routers, salt: salt.toString('hex'), networking_key: Buffer.concat([nonce, ct]).toString('hex') };
  writeFileSync(file, JSON.stringify(kf), { mode: 0o600 });
  return key;
}
