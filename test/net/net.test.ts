// net:distro:sys between nodes booted in-process: hi both ways, the Net API, a component answering
// a remote Request, Offline, garbage and forged peers, and one of three nodes dying and coming back.

import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ed25519 } from '@noble/curves/ed25519.js';
import type { AddressInfo } from 'node:net';
import * as wsModule from 'ws';
import { WebSocket, WebSocketServer } from 'ws';
import { buildFixture, repoRoot } from '../../src/build/componentize.js';
import { SendErrorException } from '../../src/runtime/kernel/api.js';
import { encodeHnsUpdate, encodeNetAction } from '../../src/runtime/modules/net/index.js';
import { generateKeyPair, XXHandshake } from '../../src/runtime/modules/net/noise.js';
import { decodeKernelMessage, encodeKernelMessage } from '../../src/runtime/modules/net/kernel-message.js';
import { encodeHandshakePayload, frame, unpack } from '../../src/runtime/modules/net/wire.js';
import {
  addressToString,
  fromUtf8,
  type KernelMessage,
  messagingCap,
  NETWORK_PARAMS,
  parseProcessId,
  systemProcess,
  utf8,
} from '../../src/core/types.js';
import { bootTestNode, feedPki, frameQueue, ROOT, TESTER, type TestNode, waitFor } from './helpers.js';

async function hi(from: TestNode, to: string, text: string): Promise<string> {
  const reply = await from.kernel.request(TESTER, `${to}@net:distro:sys`, text, { timeoutSecs: 5 });
  return fromUtf8(reply.response.body);
}

async function expectOffline(p: Promise<unknown>): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof SendErrorException && e.sendError.kind === 'offline');
}

async function installEcho(n: TestNode, wasm: Uint8Array): Promise<string> {
  const id = 'echo:net-test:test.os';
  const init = await n.kernel.request(
    TESTER,
    'our@kernel:distro:sys',
    JSON.stringify({
      InitializeProcess: {
        id,
        wasm_bytes_handle: '/net-test:test.os/pkg/echo.wasm',
        wit_version: 1,
        on_exit: 'Restart',
        initial_capabilities: [{ issuer: `${n.name}@kernel:distro:sys`, params: NETWORK_PARAMS }],
        public: true,
      },
    }),
    { blob: { bytes: wasm } },
  );
  assert.equal(fromUtf8(init.response.body), '"InitializedProcess"');
  const run = await n.kernel.request(TESTER, 'our@kernel:distro:sys', JSON.stringify({ RunProcess: id }));
  assert.equal(fromUtf8(run.response.body), '"StartedProcess"');
  return id;
}

describe('net:distro:sys, two nodes', () => {
  let alpha: TestNode;
  let beta: TestNode;

  before(async () => {
    alpha = await bootTestNode('alpha.dev');
    beta = await bootTestNode('beta.dev');
    feedPki([alpha, beta], [alpha, beta]);
  });

  after(async () => {
    await alpha?.node.stop();
    await beta?.node.stop();
  });

  it('hi goes both ways, is printed on the other node and answered with ack', async () => {
    assert.equal(await hi(alpha, 'beta.dev', 'hello beta'), 'ack');
    assert.ok(beta.prints.some((l) => l.includes('alpha.dev: hello beta')), beta.prints.join('\n'));
    assert.equal(await hi(beta, 'alpha.dev', 'hello alpha'), 'ack');
    assert.ok(alpha.prints.some((l) => l.includes('beta.dev: hello alpha')), alpha.prints.join('\n'));
  });

  it('hi typed at a terminal reaches another node and shows its ack', async () => {
    const gamma = await bootTestNode('gamma.dev', { terminal: true });
    try {
      feedPki([alpha, gamma], [alpha, gamma]);
      gamma.type?.('hi alpha.dev hello from a terminal');
      await waitFor(() => gamma.prints.some((l) => l.includes('response from alpha.dev: ack')), 'the ack on the terminal');
      assert.ok(alpha.prints.some((l) => l.includes('gamma.dev: hello from a terminal')));
      gamma.type?.('hi nobody.dev anyone?');
      await waitFor(() => gamma.prints.some((l) => l.includes('nobody.dev is offline or does not exist')), 'offline on the terminal');
    } finally {
      await gamma.node.stop();
    }
  });

  it('answers the Net API: GetPeers, GetPeer, GetDiagnostics', async () => {
    await hi(alpha, 'beta.dev', 'x');
    const peers = unpack(
      (await alpha.kernel.request(TESTER, 'our@net:distro:sys', encodeNetAction({ kind: 'GetPeers' }))).response.body,
    ) as { Peers: unknown[][] };
    assert.deepEqual(
      peers.Peers.map((p) => p[0]),
      ['beta.dev'],
    );
    const peer = unpack(
      (await alpha.kernel.request(TESTER, 'our@net:distro:sys', encodeNetAction({ kind: 'GetPeer', node: 'beta.dev' }))).response.body,
    ) as { Peer: [string, string, { Direct: [string, { ws: number }] }] };
    assert.equal(peer.Peer[1], beta.node.net.publicKeyHex);
    assert.deepEqual(peer.Peer[2], { Direct: ['127.0.0.1', { ws: beta.node.net.port }] });
    const diag = unpack(
      (await alpha.kernel.request(TESTER, 'our@net:distro:sys', encodeNetAction({ kind: 'GetDiagnostics' }))).response.body,
    ) as { Diagnostics: string };
    assert.match(diag.Diagnostics, /we have connections with 1 peers/);
    assert.match(diag.Diagnostics, /\n {4}beta\.dev, last message \d+s ago/);
  });

  it('a component on one node answers a Request from the other', async () => {
    // Only the process world: other WIT packages in wit/ do not concern this fixture.
    const witPath = join(ROOT, 'wit');
    mkdirSync(witPath, { recursive: true });
    copyFileSync(join(repoRoot(), 'wit/hyperware.wit'), join(witPath, 'hyperware.wit'));
    const wasm = await buildFixture(join(repoRoot(), 'test/fixtures/processes/echo.js'), { witPath });
    const id = await installEcho(beta, wasm);
    const body = utf8('ping across nodes');
    const reply = await alpha.kernel.request(TESTER, `beta.dev@${id}`, body, {
      timeoutSecs: 10,
      blob: { mime: 'text/plain', bytes: utf8('a blob') },
      metadata: 'meta',
    });
    assert.equal(reply.source.node, 'beta.dev');
    assert.equal(fromUtf8(reply.response.body), 'ping across nodes');
    assert.equal(reply.response.metadata, 'meta');
    assert.equal(fromUtf8(reply.blob?.bytes ?? new Uint8Array()), 'a blob');
    // A message bigger than one Noise chunk (64 KB) is split and put back together.
    const big = new Uint8Array(300_000).map((_, i) => i % 251);
    const bigReply = await alpha.kernel.request(TESTER, `beta.dev@${id}`, big, { timeoutSecs: 10 });
    assert.deepEqual(bigReply.response.body, big);
    // Megabytes cross too; bytes go as MessagePack integers, so 0xff counts twice on the wire
    // and 6 MB of it is over the 10 MB network limit: dropped, as Hyperdrive's net does (a
    // process would time out); this native waiter hears why at once.
    const mb = new Uint8Array(3_000_000).fill(65);
    assert.equal((await alpha.kernel.request(TESTER, `beta.dev@${id}`, mb, { timeoutSecs: 30 })).response.body.length, mb.length);
    await assert.rejects(alpha.kernel.request(TESTER, `beta.dev@${id}`, new Uint8Array(6_000_000).fill(0xff), { timeoutSecs: 30 }), (e: unknown) => {
      assert.ok(e instanceof SendErrorException && e.sendError.kind === 'timeout' && e.code === 'too-large');
      assert.match(e.reason ?? '', /over the 10485800-byte network limit/);
      return true;
    });
  });

  it('a local process without net\'s root capability cannot rewrite the PKI', async () => {
    const intruder = parseProcessId('intruder:net-test:test.os');
    await alpha.kernel.addNative({ id: intruder, handle: () => {} }, [messagingCap({ node: 'alpha.dev', process: systemProcess('net') })]);
    // point beta.dev at a key and port that are not beta's
    alpha.kernel.tell(
      intruder,
      'our@net:distro:sys',
      encodeHnsUpdate({ name: 'beta.dev', publicKey: 'ab'.repeat(32), ips: ['127.0.0.1'], ports: { ws: 1 }, routers: [] }),
    );
    const peer = await alpha.kernel.request(TESTER, 'our@net:distro:sys', encodeNetAction({ kind: 'GetPeer', node: 'beta.dev' }), { timeoutSecs: 5 });
    assert.match(JSON.stringify(unpack(peer.response.body)), new RegExp(beta.node.net.publicKeyHex));
    assert.equal(await hi(alpha, 'beta.dev', 'still you?'), 'ack');
  });

  it('capabilities cross the network signed: ours come back valid, forged ones never reach the process', async () => {
    const a = parseProcessId('keeper:net-test:test.os');
    const b = parseProcessId('holder:net-test:test.os');
    const seenByA: string[][] = [];
    const seenByB: string[][] = [];
    const names = (km: KernelMessage) => (km.message.tag === 'request' ? km.message.val.capabilities : []).map((c) => `${addressToString(c.issuer)} ${c.params}`);
    const networked = (n: TestNode) => [{ issuer: { node: n.name, process: systemProcess('kernel') }, params: NETWORK_PARAMS }];
    await alpha.kernel.addNative({ id: a, isPublic: true, handle: (km) => void seenByA.push(names(km)) }, networked(alpha));
    await beta.kernel.addNative({ id: b, isPublic: true, handle: (km) => void seenByB.push(names(km)) }, networked(beta));
    const issued = { issuer: { node: 'alpha.dev', process: a }, params: '"read"' };
    // alpha's keeper hands beta's holder a capability it issued
    alpha.kernel.tell(a, { node: 'beta.dev', process: b }, 'take this', { capabilities: [issued] });
    await waitFor(() => seenByB.length === 1, 'the capability at beta');
    assert.deepEqual(seenByB[0], ['alpha.dev@keeper:net-test:test.os "read"']);
    // the holder saved it and shows it back to its issuer: the signature from alpha goes with it
    beta.kernel.grant(b, [issued]);
    beta.kernel.tell(b, { node: 'alpha.dev', process: a }, 'look', { capabilities: [issued] });
    await waitFor(() => seenByA.length === 1, 'the capability back at alpha');
    assert.deepEqual(seenByA[0], ['alpha.dev@keeper:net-test:test.os "read"']);
    // a capability beta made up in alpha's name (no signature of alpha's) is dropped on arrival
    const forged = { issuer: { node: 'alpha.dev', process: systemProcess('vfs') }, params: JSON.stringify({ root: true }) };
    beta.kernel.grant(b, [forged]);
    beta.kernel.tell(b, { node: 'alpha.dev', process: a }, 'trust me', { capabilities: [forged, issued] });
    await waitFor(() => seenByA.length === 2, 'the forged message at alpha');
    assert.deepEqual(seenByA[1], ['alpha.dev@keeper:net-test:test.os "read"']);
  });

  it('a name not in the PKI, or a node that does not answer, is Offline', async () => {
    await expectOffline(alpha.kernel.request(TESTER, 'nobody.dev@net:distro:sys', 'hello?', { timeoutSecs: 10 }));
    alpha.kernel.tell(
      TESTER,
      'our@net:distro:sys',
      encodeHnsUpdate({ name: 'ghost.dev', publicKey: beta.node.net.publicKeyHex, ips: ['127.0.0.1'], ports: { ws: 1 }, routers: [] }),
    );
    await expectOffline(alpha.kernel.request(TESTER, 'ghost.dev@net:distro:sys', 'hello?', { timeoutSecs: 10 }));
  });

  it('a peer speaking garbage is dropped and the node keeps running', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${beta.node.net.port}`);
    await new Promise((r) => ws.once('open', r));
    const closed = new Promise((r) => ws.once('close', r));
    ws.send(new Uint8Array(500).fill(7));
    ws.send(new Uint8Array(10).fill(1));
    await closed;
    const text = new WebSocket(`ws://127.0.0.1:${beta.node.net.port}`);
    await new Promise((r) => text.once('open', r));
    const closed2 = new Promise((r) => text.once('close', r));
    text.send('not binary');
    await closed2;
    assert.equal(await hi(alpha, 'beta.dev', 'still there?'), 'ack');
  });

  it('an authenticated peer that lies about the source node is disconnected', async () => {
    // mallory.dev is a real PKI entry whose key we hold; it claims a message comes from alpha.dev.
    const malloryKey = ed25519.utils.randomSecretKey();
    const publicKey = Buffer.from(ed25519.getPublicKey(malloryKey)).toString('hex');
    beta.kernel.tell(
      TESTER,
      'our@net:distro:sys',
      encodeHnsUpdate({ name: 'mallory.dev', publicKey, ips: ['127.0.0.1'], ports: { ws: 1 }, routers: [] }),
    );
    const ws = new WebSocket(`ws://127.0.0.1:${beta.node.net.port}`);
    await new Promise((r) => ws.once('open', r));
    const next = frameQueue(ws);
    const s = generateKeyPair();
    const hs = new XXHandshake({ initiator: true, staticKey: s });
    ws.send(hs.writeMessage());
    hs.readMessage(await next());
    ws.send(
      hs.writeMessage(
        encodeHandshakePayload({ protocolVersion: 1, name: 'mallory.dev', signature: ed25519.sign(s.publicKey, malloryKey), proxyRequest: false }),
      ),
    );
    const t = hs.finish();
    const closed = new Promise((r) => ws.once('close', r));
    const forged = encodeKernelMessage({
      id: 1n,
      source: { node: 'alpha.dev', process: TESTER },
      target: { node: 'beta.dev', process: { processName: 'net', packageName: 'distro', publisherNode: 'sys' } },
      message: { tag: 'request', val: { inherit: false, body: utf8('forged hello'), capabilities: [] } },
    });
    ws.send(t.encrypt(frame(forged)));
    await closed;
    assert.ok(!beta.prints.some((l) => l.includes('forged hello')), 'the forged message must not be delivered');
    assert.equal(await hi(alpha, 'beta.dev', 'after mallory'), 'ack');
  });
  it('a data frame that straddles the end of the handshake is read whole, and so is what follows', async () => {
    // dave.dev's first frame is written together with the last handshake message, its second half
    // later: whichever frame reader holds the first half must finish it.
    const daveKey = ed25519.utils.randomSecretKey();
    const publicKey = Buffer.from(ed25519.getPublicKey(daveKey)).toString('hex');
    beta.kernel.tell(TESTER, 'our@net:distro:sys', encodeHnsUpdate({ name: 'dave.dev', publicKey, ips: ['127.0.0.1'], ports: { ws: 1 }, routers: [] }));
    const ws = new WebSocket(`ws://127.0.0.1:${beta.node.net.port}`);
    await new Promise((r) => ws.once('open', r));
    const first = new Promise<Uint8Array>((r) => ws.once('message', (d: Buffer) => r(new Uint8Array(d))));
    const s = generateKeyPair();
    const hs = new XXHandshake({ initiator: true, staticKey: s });
    ws.send(hs.writeMessage());
    hs.readMessage(await first);
    const msg3 = hs.writeMessage(
      encodeHandshakePayload({ protocolVersion: 1, name: 'dave.dev', signature: ed25519.sign(s.publicKey, daveKey), proxyRequest: false }),
    );
    const t = hs.finish();
    const hiFrame = (text: string) =>
      t.encrypt(
        frame(
          encodeKernelMessage({
            id: 7n,
            source: { node: 'dave.dev', process: TESTER },
            target: { node: 'beta.dev', process: systemProcess('net') },
            message: { tag: 'request', val: { inherit: false, body: utf8(text), capabilities: [] } },
          }),
        ),
      );
    const { Sender } = wsModule as unknown as { Sender: { frame(d: Uint8Array, o: object): Buffer[] } };
    const wire = (b: Uint8Array) => Buffer.concat(Sender.frame(Buffer.from(b), { fin: true, opcode: 2, mask: true, readOnly: true, rsv1: false }));
    const socket = (ws as unknown as { _socket: import('node:net').Socket })._socket;
    const split = wire(hiFrame('straddling hello'));
    socket.write(Buffer.concat([wire(msg3), split.subarray(0, 9)]));
    await new Promise((r) => setTimeout(r, 50));
    socket.write(split.subarray(9));
    await waitFor(() => beta.prints.some((l) => l.includes('dave.dev: straddling hello')), 'the straddling hi');
    ws.send(hiFrame('and then some'));
    await waitFor(() => beta.prints.some((l) => l.includes('dave.dev: and then some')), 'the next hi');
    ws.terminate();
  });

  it('a peer whose frames come fragmented, with pings between, gets answers, pongs and its Close echoed', async () => {
    // carol.dev is a node of our own making on the ws library: it accepts alpha's connection,
    // so alpha is the WebSocket client (its frames must be masked, which ws checks).
    const carolKey = ed25519.utils.randomSecretKey();
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => server.once('listening', r));
    alpha.kernel.tell(
      TESTER,
      'our@net:distro:sys',
      encodeHnsUpdate({
        name: 'carol.dev',
        publicKey: Buffer.from(ed25519.getPublicKey(carolKey)).toString('hex'),
        ips: ['127.0.0.1'],
        ports: { ws: (server.address() as AddressInfo).port },
        routers: [],
      }),
    );
    const carolSide = new Promise<{ ws: WebSocket; t: ReturnType<XXHandshake['finish']>; next: () => Promise<Uint8Array> }>((resolve) =>
      server.once('connection', async (ws) => {
        const next = frameQueue(ws);
        const s = generateKeyPair();
        const hs = new XXHandshake({ initiator: false, staticKey: s });
        hs.readMessage(await next());
        ws.send(
          hs.writeMessage(
            encodeHandshakePayload({ protocolVersion: 1, name: 'carol.dev', signature: ed25519.sign(s.publicKey, carolKey), proxyRequest: false }),
          ),
        );
        hs.readMessage(await next());
        resolve({ ws, t: hs.finish(), next });
      }),
    );
    const asked = alpha.kernel.request(TESTER, 'carol.dev@echo:net-test:test.os', 'are you carol?', { timeoutSecs: 10 });
    const { ws, t, next } = await carolSide;
    const km = decodeKernelMessage(t.decrypt(await next()).subarray(4));
    assert.equal(km.message.tag, 'request');
    assert.equal(fromUtf8(km.message.val.body), 'are you carol?');
    const pongs: string[] = [];
    ws.on('pong', (d: Buffer) => pongs.push(d.toString()));
    // The answer in three fragments, a ping between the first two.
    const answer = t.encrypt(
      frame(
        encodeKernelMessage({
          id: km.id,
          source: { node: 'carol.dev', process: parseProcessId('echo:net-test:test.os') },
          target: km.rsvp ?? km.source,
          message: { tag: 'response', val: [{ inherit: false, body: utf8('I am carol'), capabilities: [] }, undefined] },
        }),
      ),
    );
    const third = Math.floor(answer.length / 3);
    ws.send(answer.subarray(0, third), { fin: false });
    ws.ping('still there?');
    ws.send(answer.subarray(third, 2 * third), { fin: false });
    ws.send(answer.subarray(2 * third), { fin: true });
    assert.equal(fromUtf8((await asked).response.body), 'I am carol');
    await waitFor(() => pongs.length > 0, 'a pong from alpha');
    assert.deepEqual(pongs, ['still there?']);
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.close(4002, 'bye');
    assert.equal(await closed, 4002, 'alpha answered our Close with its code');
    const peerNames = async () =>
      (
        unpack((await alpha.kernel.request(TESTER, 'our@net:distro:sys', encodeNetAction({ kind: 'GetPeers' }))).response.body) as {
          Peers: unknown[][];
        }
      ).Peers.map((p) => p[0]);
    for (let i = 0; i < 100 && (await peerNames()).includes('carol.dev'); i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(!(await peerNames()).includes('carol.dev'), 'alpha dropped carol after the Close');
    await new Promise((r) => server.close(r));
    assert.equal(await hi(alpha, 'beta.dev', 'after carol'), 'ack');
  });
});

describe('net:distro:sys, three nodes', () => {
  const nodes: TestNode[] = [];

  after(async () => {
    for (const n of nodes) await n.node.stop();
    rmSync(ROOT, { recursive: true, force: true });
  });

  it('the others keep talking when one dies mid-conversation, and it is reachable again after a persisted reboot', async () => {
    const a = await bootTestNode('one.dev');
    const b = await bootTestNode('two.dev');
    let c = await bootTestNode('three.dev', { persist: true });
    nodes.push(a, b);
    feedPki([a, b, c], [a, b, c]);
    assert.equal(await hi(a, 'three.dev', 'hi three'), 'ack');
    assert.equal(await hi(b, 'three.dev', 'hi three from two'), 'ack');
    const keyBefore = c.node.net.publicKeyHex;

    // A conversation between one and two, with three dying in the middle of it.
    const replies: Promise<string>[] = [];
    for (let i = 0; i < 20; i++) {
      replies.push(hi(a, 'two.dev', `msg ${i}`));
      replies.push(hi(b, 'one.dev', `msg ${i}`));
      if (i === 10) await c.node.stop();
    }
    assert.deepEqual(await Promise.all(replies), new Array(40).fill('ack'));
    await expectOffline(hi(a, 'three.dev', 'are you there?'));
    assert.equal(await hi(a, 'two.dev', 'still talking'), 'ack');

    c = await bootTestNode('three.dev', { persist: true, home: c.home });
    nodes.push(c);
    assert.equal(c.node.net.publicKeyHex, keyBefore, 'the networking key survives the reboot');
    // Its new address reaches the others as an HnsUpdate (the chain would carry it).
    feedPki([a, b, c], [a, b, c]);
    await waitFor(() => true, 'pki');
    assert.equal(await hi(a, 'three.dev', 'welcome back'), 'ack');
    assert.equal(await hi(c, 'two.dev', 'back from the dead'), 'ack');
    assert.ok(c.prints.some((l) => l.includes('one.dev: welcome back')));
  });
});
