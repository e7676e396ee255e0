// The wire formats, byte for byte as rmp-serde writes the Rust types, the framing, the Offline
// hook in the kernel, and the networking key on disk.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SendErrorException } from '../../src/runtime/kernel/api.js';
import { Kernel } from '../../src/runtime/kernel/kernel.js';
import { createLogger } from '../../src/core/log.js';
import { loadOrCreateNetKey, NET_KEY_FILE, NetKeyError, readNetPublicKey } from '../../src/core/net-key.js';
import {
  chunks,
  decodeNetAction,
  encodeHnsUpdate,
  encodeNetAction,
  frame,
  pack,
  Reassembler,
  WireError,
} from '../../src/runtime/modules/net/wire.js';
import { decodeKernelMessage, encodeKernelMessage } from '../../src/runtime/modules/net/kernel-message.js';
import { FileStateStore } from '../../src/runtime/modules/state.js';
import { type KernelMessage, NETWORK_PARAMS, parseAddress, systemProcess, utf8 } from '../../src/core/types.js';

const hexOf = (b: Uint8Array) => Buffer.from(b).toString('hex');
const s = (t: string) => Buffer.from(t).toString('hex');
const TMP = mkdtempSync(join(tmpdir(), 'kit-net-wire-'));
after(() => rmSync(TMP, { recursive: true, force: true }));

describe('KernelMessage as rmp-serde encodes it', () => {
  const request: KernelMessage = {
    id: 1n,
    source: parseAddress('a.dev@p:k:pub'),
    target: parseAddress('b.dev@p:k:pub'),
    message: { tag: 'request', val: { inherit: false, expectsResponse: 5n, body: utf8('hi'), capabilities: [] } },
  };

  it('a struct is an array in field order, an enum a one-key map, Vec<u8> an array of ints, None nil', () => {
    const expected =
      '96' + // KernelMessage: 6 fields
      '01' + // id
      `ad${s('a.dev@p:k:pub')}` + // source (Address as a string)
      `ad${s('b.dev@p:k:pub')}` + // target
      'c0' + // rsvp None
      `81a7${s('Request')}` + // Message::Request
      '95c205926869c090' + // [inherit false, expects_response 5, body [0x68,0x69], metadata nil, caps []]
      'c0'; // lazy_load_blob None
    assert.equal(hexOf(encodeKernelMessage(request)), expected);
  });

  it('a u64 above 2^53 goes out as uint64 and comes back exact', () => {
    const id = 2n ** 63n + 5n;
    const bytes = encodeKernelMessage({ ...request, id });
    assert.equal(hexOf(bytes.subarray(1, 10)), `cf${(2n ** 63n + 5n).toString(16)}`);
    assert.equal(decodeKernelMessage(bytes).id, id);
  });

  it('round-trips a Response with blob, metadata, rsvp and capabilities', () => {
    const km: KernelMessage = {
      id: 99n,
      source: parseAddress('a.dev@p:k:pub'),
      target: parseAddress('b.dev@p:k:pub'),
      rsvp: parseAddress('c.dev@q:k:pub'),
      message: {
        tag: 'response',
        val: [{ inherit: true, body: new Uint8Array([0, 255, 7]), metadata: 'm', capabilities: [{ issuer: parseAddress('a.dev@kernel:distro:sys'), params: NETWORK_PARAMS }] }, undefined],
      },
      lazyLoadBlob: { mime: 'text/plain', bytes: utf8('blob') },
    };
    assert.deepEqual(decodeKernelMessage(encodeKernelMessage(km)), km);
  });

  it('accepts bin for Vec<u8> and rejects what is not a KernelMessage', () => {
    const withBin = pack([1, 'a.dev@p:k:pub', 'b.dev@p:k:pub', null, { Request: [false, null, new Uint8Array([1, 2]), null, []] }, null]);
    assert.deepEqual(decodeKernelMessage(withBin).message.val, { inherit: false, expectsResponse: undefined, body: new Uint8Array([1, 2]), metadata: undefined, capabilities: [] });
    assert.throws(() => decodeKernelMessage(pack([1, 2, 3])), WireError);
    assert.throws(() => decodeKernelMessage(pack([1, 'nope', 'b.dev@p:k:pub', null, 'Request', null])), WireError);
    assert.throws(() => decodeKernelMessage(new Uint8Array([0xc1])), WireError);
  });
});

describe('Net API bodies', () => {
  it('HnsUpdate is {"HnsUpdate": [name, public_key, [ips], {ports}, [routers]]}', () => {
    const bytes = encodeHnsUpdate({ name: 'a.dev', publicKey: 'ab', ips: ['127.0.0.1'], ports: { ws: 9000 }, routers: [] });
    assert.equal(hexOf(bytes), `81a9${s('HnsUpdate')}95a5${s('a.dev')}a2${s('ab')}91a9${s('127.0.0.1')}81a2${s('ws')}cd232890`);
    assert.deepEqual(decodeNetAction(bytes), {
      kind: 'HnsUpdate',
      update: { name: 'a.dev', publicKey: 'ab', ips: ['127.0.0.1'], ports: { ws: 9000 }, routers: [] },
    });
  });

  it('unit variants are bare strings; a plain text body is not a NetAction', () => {
    assert.equal(hexOf(encodeNetAction({ kind: 'GetPeers' })), `a8${s('GetPeers')}`);
    assert.deepEqual(decodeNetAction(encodeNetAction({ kind: 'GetPeer', node: 'x.dev' })), { kind: 'GetPeer', node: 'x.dev' });
    assert.equal(decodeNetAction(utf8('hello there')), undefined);
    assert.equal(decodeNetAction(utf8('GetPeers')), undefined);
    assert.equal(decodeNetAction(pack({ Unknown: 1 })), undefined);
  });
});

describe('framing', () => {
  it('a length prefix and chunks reassemble into the same messages, split anywhere', () => {
    const a = new Uint8Array(70_000).map((_, i) => i % 13);
    const b = utf8('second');
    const stream = [...chunks(frame(a), 65519), ...chunks(frame(b), 3)];
    const r = new Reassembler();
    const out = stream.flatMap((c) => r.push(c));
    assert.deepEqual(out, [a, b]);
  });

  it('a length over the 10 MB limit is refused', () => {
    const head = new Uint8Array(4);
    new DataView(head.buffer).setUint32(0, 10_485_801);
    assert.throws(() => new Reassembler().push(head), WireError);
  });
});

describe('networking key', () => {
  it('is created once, reloaded with the password, refused with another', () => {
    const home = join(TMP, 'home');
    const k1 = loadOrCreateNetKey(home, 'pw');
    const k2 = loadOrCreateNetKey(home, 'pw');
    assert.equal(k2.publicKeyHex, k1.publicKeyHex);
    assert.deepEqual(k2.secretKey, k1.secretKey);
    assert.equal(readNetPublicKey(home), k1.publicKeyHex);
    assert.throws(() => loadOrCreateNetKey(home, 'wrong'), NetKeyError);
    const file = readFileSync(join(home, NET_KEY_FILE), 'utf8');
    assert.ok(!file.includes(hexOf(k1.secretKey)), 'the secret is not stored in clear');
  });
});

describe('kernel Offline hook', () => {
  it('returnOffline fails the waiting Request with an Offline SendError at once', async () => {
    const home = join(TMP, 'kernel');
    const log = createLogger({ terminal: null, file: null });
    const kernel = new Kernel({
      our: 'a.dev',
      home,
      log,
      runner: { start: () => Promise.reject(new Error('no processes here')) },
      state: new FileStateStore(home),
      readWasm: async () => undefined,
    });
    // A stand-in net module (a test double in a unit test): every remote message is undeliverable.
    await kernel.addNative({ id: systemProcess('net'), handle: (km) => kernel.returnOffline(km, 'no route') }, []);
    const me = { processName: 'me', packageName: 'pkg', publisherNode: 'pub.os' };
    await kernel.addNative({ id: me, handle: () => {} }, []);
    await assert.rejects(kernel.request(me, 'b.dev@p:k:pub', 'x', { timeoutSecs: 30 }), (e: unknown) => {
      assert.ok(e instanceof SendErrorException);
      assert.equal(e.sendError.kind, 'offline');
      assert.equal(e.reason, 'no route');
      return true;
    });
    await kernel.shutdown();
  });
});
