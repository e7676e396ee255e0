// Our ChaCha20-Poly1305 (used for small transport messages) against RFC 8439's AEAD test vector
// and against node:crypto on every length around the block sizes, plus the Noise CipherState on
// both sides of the small/large switch.

import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { SmallAead } from '../../src/runtime/modules/net/chacha.js';
import { CipherState, NoiseError } from '../../src/runtime/modules/net/noise.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const EMPTY = new Uint8Array(0);

function nodeSeal(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  if (ad.length > 0) c.setAAD(ad, { plaintextLength: plaintext.length });
  return new Uint8Array(Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]));
}

describe('ChaCha20-Poly1305 (RFC 8439)', () => {
  it('reproduces the AEAD test vector of section 2.8.2', () => {
    const plaintext = new TextEncoder().encode(
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
    );
    const key = hex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f');
    const nonce = hex('070000004041424344454647');
    const ad = hex('50515253c0c1c2c3c4c5c6c7');
    const sealed = new SmallAead(key).seal(nonce, ad, EMPTY, plaintext);
    assert.equal(
      toHex(sealed.subarray(0, plaintext.length)),
      'd31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116',
    );
    assert.equal(toHex(sealed.subarray(plaintext.length)), '1ae10b594f09e26a7e902ecbd0600691');
    const opened = (s: Uint8Array) => toHex(new SmallAead(key).open(nonce, ad, s) ?? new Uint8Array(0));
    assert.equal(opened(sealed), toHex(plaintext));
    // Opening decrypts into new bytes: a received Buffer is left as it came.
    const received = Buffer.from(sealed);
    assert.equal(opened(received), toHex(plaintext));
    assert.equal(toHex(received), toHex(sealed));
  });

  it('matches node:crypto byte for byte at every length up to 600 and with any AD', () => {
    for (let len = 0; len <= 600; len++) {
      const key = randomBytes(32);
      const nonce = randomBytes(12);
      const ad = randomBytes(len % 37);
      const plaintext = randomBytes(len);
      const expected = nodeSeal(key, nonce, ad, plaintext);
      const aead = new SmallAead(key);
      const split = len % 5; // head + body is one plaintext
      assert.equal(toHex(aead.seal(nonce, ad, plaintext.subarray(0, split), plaintext.subarray(split))), toHex(expected), `length ${len}`);
      const opened = aead.open(nonce, ad, expected);
      assert.ok(opened, `open, length ${len}`);
      assert.equal(toHex(opened), toHex(plaintext), `open, length ${len}`);
    }
  });

  it('refuses a message with any bit flipped, a wrong nonce or a wrong AD', () => {
    const key = randomBytes(32);
    const nonce = randomBytes(12);
    const ad = randomBytes(12);
    const sealed = nodeSeal(key, nonce, ad, randomBytes(100));
    const aead = new SmallAead(key);
    for (let i = 0; i < sealed.length; i += 7) {
      const bad = sealed.slice();
      bad[i] ^= 0x10;
      assert.equal(aead.open(nonce, ad, bad), undefined, `flipped byte ${i}`);
    }
    assert.equal(aead.open(randomBytes(12), ad, sealed), undefined);
    assert.equal(aead.open(nonce, EMPTY, sealed), undefined);
    assert.equal(aead.open(nonce, ad, sealed.subarray(0, 15)), undefined);
  });
});

describe('Noise CipherState', () => {
  it('small (ours) and large (node:crypto) messages interoperate with one key, in order', () => {
    const key = randomBytes(32);
    const tx = new CipherState();
    const rx = new CipherState();
    tx.initializeKey(key);
    rx.initializeKey(key);
    for (const len of [0, 1, 100, 512, 513, 4000, 65519, 300, 16]) {
      const plaintext = randomBytes(len);
      assert.deepEqual(new Uint8Array(rx.decryptWithAd(EMPTY, tx.encryptWithAd(EMPTY, plaintext))), new Uint8Array(plaintext), `length ${len}`);
    }
  });

  it('a forged message is refused and does not advance the nonce', () => {
    const key = randomBytes(32);
    const tx = new CipherState();
    const rx = new CipherState();
    tx.initializeKey(key);
    rx.initializeKey(key);
    for (const len of [50, 5000]) {
      const good = tx.encryptWithAd(EMPTY, randomBytes(len));
      const forged = new Uint8Array(good); // a copy (Buffer.slice would be a view)
      forged[0] ^= 1;
      assert.throws(() => rx.decryptWithAd(EMPTY, forged), NoiseError);
      assert.equal(rx.decryptWithAd(EMPTY, good).length, len);
    }
  });
});
