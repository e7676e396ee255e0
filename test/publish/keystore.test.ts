// Web3 Secret Storage v3: the definition's published test vectors (password "testpassword",
// secret 7a28…fe9d; scrypt n=2^18 r=1 p=8 as in the definition's wiki version), a wrong password, and a key encrypted here opened again.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decryptKeystore, encryptKeystore, KeystoreError, parseKeystore, WrongPasswordError } from '../../src/publish/keystore.js';

const SECRET = '7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d';

const PBKDF2_VECTOR = {
  crypto: {
    cipher: 'aes-128-ctr',
    cipherparams: { iv: '6087dab2f9fdbbfaddc31a909735c1e6' },
    ciphertext: '5318b4d5bcd28de64ee5559e671353e16f075ecae9f99c7a79a38af5f869aa46',
    kdf: 'pbkdf2',
    kdfparams: { c: 262144, dklen: 32, prf: 'hmac-sha256', salt: 'ae3cd4e7013836a3df6bd7241b12db061dbe2c6785853cce422d148a624ce0bd' },
    mac: '517ead924a9d0dc3124507e3393d175ce3ff7c1e96529c6c555ce9e51205e9b2',
  },
  id: '3198bc9c-6672-5ab3-d995-4942343ae5b6',
  version: 3,
};

const SCRYPT_VECTOR = {
  crypto: {
    cipher: 'aes-128-ctr',
    cipherparams: { iv: '83dbcc02d8ccb40e466191a123791e0e' },
    ciphertext: 'd172bf743a674da9cdad04534d56926ef8358534d458fffccd4e6ad2fbde479c',
    kdf: 'scrypt',
    kdfparams: { dklen: 32, n: 262144, p: 8, r: 1, salt: 'ab0c7876052600dd703518d6fc3fe8984592145b591fc8fb5c6d43190334ba19' },
    mac: '2103ac29920d71da29f15d75b4a16dbe95cfd7ff8faea1056c33131d846e3097',
  },
  id: '3198bc9c-6672-5ab3-d995-4942343ae5b6',
  version: 3,
};

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('Web3 Secret Storage keystores', { timeout: 120_000 }, () => {
  it('decrypts the pbkdf2 test vector', async () => {
    assert.equal(hex(await decryptKeystore(JSON.stringify(PBKDF2_VECTOR), 'testpassword')), SECRET);
  });

  it('decrypts the scrypt test vector', async () => {
    assert.equal(hex(await decryptKeystore(JSON.stringify(SCRYPT_VECTOR), 'testpassword')), SECRET);
  });

  it('says a wrong password is wrong', async () => {
    await assert.rejects(decryptKeystore(JSON.stringify(PBKDF2_VECTOR), 'not-it'), (e: unknown) => {
      assert.ok(e instanceof WrongPasswordError);
      assert.match((e as Error).message, /wrong password/);
      return true;
    });
  });

  it('refuses files that are not v3 keystores, saying why', () => {
    assert.throws(() => parseKeystore('{'), (e: unknown) => e instanceof KeystoreError && /not JSON/.test((e as Error).message));
    assert.throws(() => parseKeystore(JSON.stringify({ ...PBKDF2_VECTOR, version: 1 })), /version 1/);
    const cbc = { ...PBKDF2_VECTOR, crypto: { ...PBKDF2_VECTOR.crypto, cipher: 'aes-128-cbc' } };
    assert.throws(() => parseKeystore(JSON.stringify(cbc)), /aes-128-cbc/);
  });

  it('re-creates the pbkdf2 vector byte for byte from its salt and iv, and opens what it encrypts', async () => {
    const ks = await encryptKeystore(Buffer.from(SECRET, 'hex'), 'testpassword', {
      kdf: 'pbkdf2',
      salt: Buffer.from(PBKDF2_VECTOR.crypto.kdfparams.salt, 'hex'),
      iv: Buffer.from(PBKDF2_VECTOR.crypto.cipherparams.iv, 'hex'),
    });
    assert.equal(ks.crypto.ciphertext, PBKDF2_VECTOR.crypto.ciphertext);
    assert.equal(ks.crypto.mac, PBKDF2_VECTOR.crypto.mac);
    const small = await encryptKeystore(Buffer.from(SECRET, 'hex'), 'pw', { kdf: 'scrypt', cost: 1024 });
    assert.equal(hex(await decryptKeystore(JSON.stringify(small), 'pw')), SECRET);
    await assert.rejects(decryptKeystore(JSON.stringify(small), 'PW'), WrongPasswordError);
  });
});
