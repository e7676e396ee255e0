// The node's keyfile in Hyperdrive's format (hyperdrive/src/keygen.rs encode_keyfile), which a
// successful `POST /login` answers as a JSON string of its base64, as the real node does:
// JSON `[username, routers, salt, net_key, jwt_secret, file_key]`, byte strings as arrays of
// numbers; each secret is AES-256-GCM under PBKDF2-HMAC-SHA256(password, salt, 1,000,000
// iterations, 32 bytes) and stored as nonce (12 bytes) || ciphertext || tag. The networking key
// is Ed25519 PKCS#8 v2 (seed and public key), what ring's from_pkcs8 reads. A real node's
// decode_keyfile with the same password opens it.

import { createCipheriv, pbkdf2, randomBytes } from 'node:crypto';
import type { NetKey } from '../../../core/net-key.js';

const ITERATIONS = 1_000_000;

export interface KeyfileParts {
  username: string;
  routers: string[];
  netKey: NetKey;
  jwtSecret: Uint8Array;
  fileKey: Uint8Array;
  password: string;
}

/** Ed25519 PKCS#8 v2 as ring writes it: version 1, the OID, the seed, then the public key. */
export function ed25519Pkcs8(seed: Uint8Array, publicKey: Uint8Array): Uint8Array {
  const head = Buffer.from('3053020101300506032b657004220420', 'hex');
  const mid = Buffer.from('a123032100', 'hex');
  return new Uint8Array(Buffer.concat([head, seed, mid, publicKey]));
}

function seal(key: Buffer, plain: Uint8Array): number[] {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  const body = Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  return [...nonce, ...body];
}

/** Encode the keyfile (takes about a second: the PBKDF2 runs off the main thread). */
export async function encodeKeyfile(p: KeyfileParts): Promise<Uint8Array> {
  const salt = randomBytes(32);
  const key = await new Promise<Buffer>((resolve, reject) =>
    pbkdf2(p.password, salt, ITERATIONS, 32, 'sha256', (e, k) => (e ? reject(e) : resolve(k))),
  );
  const tuple = [
    p.username,
    p.routers,
    [...salt],
    seal(key, ed25519Pkcs8(p.netKey.secretKey, p.netKey.publicKey)),
    seal(key, p.jwtSecret),
    seal(key, p.fileKey),
  ];
  return new TextEncoder().encode(JSON.stringify(tuple));
}
