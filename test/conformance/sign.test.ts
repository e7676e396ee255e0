// sign:sign:sys from inside a component, as Hyperdrive's sign process answers
// (hyperdrive/packages/sign/sign/src/lib.rs, api sign:sys-v0.wit) and as process_lib's
// `sign::net_key_sign` / `net_key_verify` call it (process_lib src/sign.rs): the bytes signed with
// the networking key are [our@sign:sign:sys, the caller's address, the blob].

import assert from 'node:assert/strict';
import { ed25519 } from '@noble/curves/ed25519.js';
import { after, before, describe, it } from 'node:test';
import { bootConformanceNode, type ConformanceNode, PUBLISHER } from './harness.js';

const SIGN = 'sign:sign:sys';
const CALLER = `fake.dev@driver:sign-conf:${PUBLISHER}`;
const MESSAGE = 'a message to sign';

describe('conformance: sign', { timeout: 180_000 }, () => {
  let c: ConformanceNode;
  const driver = () => c.driver('driver', 'sign-conf');

  before(async () => {
    c = await bootConformanceNode([
      {
        name: 'sign-conf',
        processes: [{ name: 'driver', request_capabilities: ['http-server:distro:sys', SIGN], grant_capabilities: ['http-server:distro:sys', SIGN] }],
      },
      { name: 'no-sign', processes: [{ name: 'driver', request_capabilities: ['http-server:distro:sys'], grant_capabilities: ['http-server:distro:sys'] }] },
    ]);
  });
  after(async () => {
    await c?.stop();
  });

  const signed = (blob: string) => Buffer.concat([Buffer.from(`fake.dev@${SIGN}`), Buffer.from(CALLER), Buffer.from(blob)]);

  it('NetKeySign answers "NetKeySign" with the signature as blob, over [sign address, caller, blob] (sign lib.rs handle_sign)', async () => {
    const a = await driver().answer(SIGN, '"NetKeySign"', { blob: MESSAGE, timeout: 10 });
    assert.equal(a.source, `fake.dev@${SIGN}`);
    assert.equal(a.body, '"NetKeySign"');
    assert.ok(a.blob, 'the signature comes as blob');
    const sig = Buffer.from(a.blob.base64, 'base64');
    assert.equal(sig.length, 64);
    const key = Uint8Array.from(Buffer.from(c.node.net.publicKeyHex, 'hex'));
    assert.equal(ed25519.verify(sig, signed(MESSAGE), key), true, 'an ed25519 signature by the networking key');
  });

  it('NetKeyVerify answers {"NetKeyVerify": true} for that signature and false for other bytes (handle_verify)', async () => {
    const a = await driver().answer(SIGN, '"NetKeySign"', { blob: MESSAGE, timeout: 10 });
    const signature = [...Buffer.from(a.blob?.base64 ?? '', 'base64')];
    // process_lib's NetKeyVerifyRequest: {"node": <address string>, "signature": <bytes as a list>}.
    assert.deepEqual(await driver().json(SIGN, { NetKeyVerify: { node: CALLER, signature } }, { blob: MESSAGE, timeout: 10 }), { NetKeyVerify: true });
    assert.deepEqual(await driver().json(SIGN, { NetKeyVerify: { node: CALLER, signature } }, { blob: `${MESSAGE}!`, timeout: 10 }), { NetKeyVerify: false });
    const other = `fake.dev@other:sign-conf:${PUBLISHER}`;
    assert.deepEqual(await driver().json(SIGN, { NetKeyVerify: { node: other, signature } }, { blob: MESSAGE, timeout: 10 }), { NetKeyVerify: false });
  });

  it('NetKeyMakeMessage answers with the bytes that get signed (handle_make_message)', async () => {
    const a = await driver().answer(SIGN, '"NetKeyMakeMessage"', { blob: MESSAGE });
    assert.equal(a.body, '"NetKeyMakeMessage"');
    assert.equal(Buffer.from(a.blob?.base64 ?? '', 'base64').toString(), signed(MESSAGE).toString());
  });

  it('a Request that is no sign:sys-v0 request is answered at once with what to send', async () => {
    const a = await driver().json(SIGN, { Sign: 'please' });
    assert.match((a as { Err: string }).Err, /NetKeySign/);
    const bad = await driver().json(SIGN, { NetKeyVerify: { node: 'not an address', signature: [1, 2] } }, { blob: MESSAGE });
    assert.match((bad as { Err: string }).Err, /not an address/);
  });

  it('a process without the capability is refused by the kernel (sign is not public: its manifest says public: false)', async () => {
    const r = await c.driver('driver', 'no-sign').send(SIGN, '"NetKeySign"', { blob: MESSAGE });
    assert.ok('sendError' in r, JSON.stringify(r));
  });
});
