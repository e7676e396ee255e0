// The TCP transport (issue 17 W2): nodes that publish `~tcp-port` are reached over TCP, tried
// before WebSocket and without a second try over it (hyperdrive/src/net/connect.rs), framed as
// hyperdrive/src/net/tcp/utils.rs frames it (checked here with a peer framed by hand).

import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ed25519 } from '@noble/curves/ed25519.js';
import { SendErrorException } from '../../src/runtime/kernel/api.js';
import { decodeKernelMessage, encodeKernelMessage } from '../../src/runtime/modules/net/kernel-message.js';
import { encodeHnsUpdate, encodeNetAction } from '../../src/runtime/modules/net/index.js';
import { generateKeyPair, type TransportState, XXHandshake } from '../../src/runtime/modules/net/noise.js';
import { encodeHandshakePayload, unpack } from '../../src/runtime/modules/net/wire.js';
import { fromUtf8, type KernelMessage, type ProcessId, systemProcess, utf8 } from '../../src/core/types.js';
import { freePort } from '../chain/helpers.js';
import { bootTestNode, rawIdentity, TESTER, type TestNode, waitFor } from './helpers.js';

const ECHO: ProcessId = { processName: 'echo', packageName: 'net-test', publisherNode: 'test.os' };

async function hi(from: TestNode, to: string, text: string): Promise<string> {
  const reply = await from.kernel.request(TESTER, `${to}@net:distro:sys`, text, { timeoutSecs: 10 });
  return fromUtf8(reply.response.body);
}

/** Tell each node where the others are, with both ports, as hns-indexer would from `~tcp-port` and `~ws-port`. */
function feedBoth(to: TestNode[], about: TestNode[], ports: (n: TestNode) => Record<string, number> = (n) => ({ tcp: n.node.net.tcpPort, ws: n.node.net.port })): void {
  for (const t of to)
    for (const a of about)
      t.kernel.tell(TESTER, 'our@net:distro:sys', encodeHnsUpdate({ name: a.name, publicKey: a.node.net.publicKeyHex, ips: ['127.0.0.1'], ports: ports(a), routers: [] }));
}

async function diagnostics(n: TestNode): Promise<string> {
  const r = await n.kernel.request(TESTER, 'our@net:distro:sys', encodeNetAction({ kind: 'GetDiagnostics' }));
  return (unpack(r.response.body) as { Diagnostics: string }).Diagnostics;
}

/** A socket's bytes, read on demand. */
function reader(socket: Socket): (n: number) => Promise<Buffer> {
  let buf = Buffer.alloc(0);
  let wake: (() => void) | undefined;
  socket.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    wake?.();
  });
  return async (n) => {
    while (buf.length < n) await new Promise<void>((r) => (wake = r));
    const out = buf.subarray(0, n);
    buf = buf.subarray(n);
    return out;
  };
}

const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

describe('net over TCP', () => {
  let a: TestNode;
  let b: TestNode;

  before(async () => {
    a = await bootTestNode('tcp-a.dev', { net: { tcpPort: 0 } });
    b = await bootTestNode('tcp-b.dev', { net: { tcpPort: 0 } });
    feedBoth([a, b], [a, b]);
    await b.kernel.addNative({
      id: ECHO,
      handle: (km) => {
        if (km.message.tag === 'request') b.kernel.respond(ECHO, km, km.message.val.body);
      },
    });
  });
  after(async () => {
    await a?.node.stop();
    await b?.node.stop();
  });

  it('two nodes that publish ~tcp-port and ~ws-port talk over TCP, both ways, messages of many pieces included', async () => {
    assert.ok(a.node.net.tcpPort > 0 && a.node.net.tcpPort !== a.node.net.port);
    assert.equal(await hi(a, 'tcp-b.dev', 'over tcp'), 'ack');
    assert.equal(await hi(b, 'tcp-a.dev', 'and back'), 'ack');
    assert.ok(b.prints.some((l) => l.includes('tcp-a.dev: over tcp')));
    assert.match(await diagnostics(a), /\n {4}tcp-b\.dev, last message \d+s ago( \(\d connections\))? over tcp/);
    // 3 MB: 4 bytes of length in clear, then about 96 pieces of at most 65,519 bytes, each sealed.
    const big = new Uint8Array(3_000_000).map((_, i) => i % 251);
    const r = await a.kernel.request(TESTER, `tcp-b.dev@${ECHO.processName}:${ECHO.packageName}:${ECHO.publisherNode}`, big, { timeoutSecs: 30 });
    assert.deepEqual(r.response.body, big);
  });

  it('a node whose TCP port refuses is Offline: no second try over its WebSocket port, as connect.rs', async () => {
    const dead = await freePort();
    feedBoth([a], [b], (n) => ({ tcp: dead, ws: n.node.net.port }));
    await assert.rejects(hi(a, 'tcp-b.dev', 'nobody home'), (e: unknown) => e instanceof SendErrorException && e.sendError.kind === 'offline');
    feedBoth([a], [b]);
    assert.equal(await hi(a, 'tcp-b.dev', 'home again'), 'ack');
  });

  it('a peer framed by hand as tcp/utils.rs frames it has its hi answered', async () => {
    const secretKey = rawIdentity(a, 'by-hand.dev');
    const socket = connect({ host: '127.0.0.1', port: a.node.net.tcpPort });
    await new Promise((r) => socket.once('connect', r));
    const read = reader(socket);
    const readRaw = async () => read((await read(2)).readUInt16BE(0));
    // Handshake messages: a 2-byte length, then the message (send_raw, send_protocol_handshake).
    const s = generateKeyPair();
    const hs = new XXHandshake({ initiator: true, staticKey: s });
    const e = hs.writeMessage();
    socket.write(Buffer.concat([u16(e.length), e]));
    hs.readMessage(await readRaw());
    const m3 = hs.writeMessage(encodeHandshakePayload({ protocolVersion: 1, name: 'by-hand.dev', signature: ed25519.sign(s.publicKey, secretKey), proxyRequest: false }));
    socket.write(Buffer.concat([u16(m3.length), m3]));
    const t: TransportState = hs.finish();
    // A KernelMessage: its length in clear, then pieces of a 2-byte length and ciphertext.
    const km = encodeKernelMessage({
      id: 9n,
      source: { node: 'by-hand.dev', process: TESTER },
      target: { node: 'tcp-a.dev', process: systemProcess('net') },
      message: { tag: 'request', val: { inherit: false, expectsResponse: 5n, body: utf8('framed by hand'), capabilities: [] } },
    });
    const sealed = t.encrypt(km);
    socket.write(Buffer.concat([u32(km.length), u16(sealed.length), sealed]));
    const len = (await read(4)).readUInt32BE(0);
    let plain = Buffer.alloc(0);
    while (plain.length < len) plain = Buffer.concat([plain, Buffer.from(t.decrypt(await readRaw()))]);
    const reply: KernelMessage = decodeKernelMessage(plain);
    assert.equal(reply.id, 9n);
    assert.equal(reply.source.node, 'tcp-a.dev');
    assert.ok(reply.message.tag === 'response');
    assert.equal(fromUtf8(reply.message.val[0].body), 'ack');
    await waitFor(() => a.prints.some((l) => l.includes('by-hand.dev: framed by hand')), 'the hi printed');
    socket.destroy();
  });

  it('a node without a TCP port still reaches a TCP node over its WebSocket port', async () => {
    const ws = await bootTestNode('ws-only.dev');
    try {
      assert.equal(ws.node.net.tcpPort, 0);
      feedBoth([ws], [a]);
      feedBoth([a], [ws], (n) => ({ ws: n.node.net.port }));
      assert.equal(await hi(ws, 'tcp-a.dev', 'from ws-only'), 'ack');
      assert.equal(await hi(a, 'ws-only.dev', 'from tcp-a'), 'ack');
      assert.match(await diagnostics(ws), /tcp-a\.dev, last message \d+s ago( \(\d connections\))? over tcp/);
    } finally {
      await ws.node.stop();
    }
  });
});
