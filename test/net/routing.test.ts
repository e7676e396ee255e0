// Routers and indirect nodes (issue 17 W1), as hyperdrive/src/net does it: an indirect node
// connects to its routers with `proxy_request: true` (indirect.rs, ws/mod.rs); a router routes
// only to peers that asked (`routing_for`) and within its passthrough limit (utils.rs
// create_passthrough, `--max-passthroughs`); a real indirect node (here one written by hand)
// is routed for and answers a ConnectionRequest by opening the other half.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ed25519 } from '@noble/curves/ed25519.js';
import { WebSocket } from 'ws';
import { SendErrorException } from '../../src/runtime/kernel/api.js';
import { decodeKernelMessage, encodeKernelMessage } from '../../src/runtime/modules/net/kernel-message.js';
import { encodeHnsUpdate, encodeNetAction } from '../../src/runtime/modules/net/index.js';
import { generateKeyPair, XXHandshake } from '../../src/runtime/modules/net/noise.js';
import { encodeHandshakePayload, encodeRoutingRequest, frame, Reassembler, unpack } from '../../src/runtime/modules/net/wire.js';
import { fromUtf8, systemProcess, utf8 } from '../../src/core/types.js';
import { bootTestNode, feedPki, frameQueue, rawIdentity, rawPeer, TESTER, type TestNode, waitFor } from './helpers.js';

async function hi(from: TestNode, to: string, text: string): Promise<string> {
  const reply = await from.kernel.request(TESTER, `${to}@net:distro:sys`, text, { timeoutSecs: 5 });
  return fromUtf8(reply.response.body);
}

/** hi until it is answered: an indirect node is reachable once it has connected to its router. */
async function hiEventually(from: TestNode, to: string, text: string): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return await hi(from, to, text);
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function diagnostics(n: TestNode): Promise<string> {
  const r = await n.kernel.request(TESTER, 'our@net:distro:sys', encodeNetAction({ kind: 'GetDiagnostics' }));
  return (unpack(r.response.body) as { Diagnostics: string }).Diagnostics;
}

async function peersOf(n: TestNode): Promise<string[]> {
  const r = await n.kernel.request(TESTER, 'our@net:distro:sys', encodeNetAction({ kind: 'GetPeers' }));
  return (unpack(r.response.body) as { Peers: unknown[][] }).Peers.map((p) => p[0] as string);
}

async function until(cond: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Tell `to` that `hidden` is an indirect node behind `routers` (its own key). */
function declareIndirect(to: TestNode[], hidden: TestNode, routers: string[]): void {
  for (const n of to)
    n.kernel.tell(TESTER, 'our@net:distro:sys', encodeHnsUpdate({ name: hidden.name, publicKey: hidden.node.net.publicKeyHex, ips: [], ports: {}, routers }));
}

const isOffline = (e: unknown) => e instanceof SendErrorException && e.sendError.kind === 'offline';

describe('routing: indirect nodes and routers', () => {
  const nodes: TestNode[] = [];
  let router: TestNode;
  let caller: TestNode;

  before(async () => {
    router = await bootTestNode('router.dev');
    caller = await bootTestNode('caller.dev');
    nodes.push(router, caller);
    feedPki([router, caller], [router, caller]);
  });
  after(async () => {
    for (const n of nodes) await n.node.stop();
  });

  it('an indirect node asks its router to route for it (proxy_request) and is reached through it, end to end encrypted', async () => {
    const hidden = await bootTestNode('hidden.dev');
    nodes.push(hidden);
    feedPki([hidden], [router, caller]);
    declareIndirect([router, caller, hidden], hidden, ['router.dev']);
    // indirect.rs maintain_routers -> init_direct(.., proxy_request: true): the router marks it routing_for.
    await until(async () => /\n {4}hidden\.dev, \(routing\) last message/.test(await diagnostics(router)), 'the router to route for hidden.dev');
    assert.equal(await hiEventually(caller, 'hidden.dev', 'through the router'), 'ack');
    assert.ok(hidden.prints.some((l) => l.includes('caller.dev: through the router')));
    assert.match(await diagnostics(router), /we have 1 active passthroughs:\n {4}caller\.dev -> hidden\.dev/);
    assert.equal(await hi(hidden, 'caller.dev', 'and back'), 'ack');
    assert.ok(!router.prints.some((l) => l.includes('through the router')), 'the router only pipes ciphertext');
  });

  it('a router does not route to a node that did not ask it to (routing_for), then does once it asks', async () => {
    const plain = await bootTestNode('plain.dev');
    nodes.push(plain);
    feedPki([plain], [router, caller]);
    declareIndirect([router, caller], plain, ['router.dev']);
    // plain.dev does not know it is indirect: its connection to the router asks for nothing.
    assert.equal(await hi(plain, 'router.dev', 'just talking'), 'ack');
    assert.doesNotMatch(await diagnostics(router), /plain\.dev, \(routing\)/);
    await assert.rejects(hi(caller, 'plain.dev', 'not routed'), isOffline);
    assert.ok(!plain.prints.some((l) => l.includes('not routed')));
    // Once it learns it is indirect it opens a connection asking for routing, and is reached.
    declareIndirect([plain], plain, ['router.dev']);
    assert.equal(await hiEventually(caller, 'plain.dev', 'routed now'), 'ack');
  });

  it('a router that allows no passthroughs (maxPassthroughs 0, Hyperdrive\'s --max-passthroughs default) refuses', async () => {
    const closed = await bootTestNode('closed-router.dev', { quotas: { maxPassthroughs: 0 } });
    const behind = await bootTestNode('behind.dev');
    nodes.push(closed, behind);
    feedPki([closed, behind, caller], [closed, caller]);
    declareIndirect([closed, behind, caller], behind, ['closed-router.dev']);
    await until(async () => /behind\.dev, \(routing\)/.test(await diagnostics(closed)), 'behind.dev to ask closed-router.dev for routing');
    await assert.rejects(hi(caller, 'behind.dev', 'no way through'), isOffline);
    assert.doesNotMatch(await diagnostics(closed), /max passthroughs/);
    assert.ok(!behind.prints.some((l) => l.includes('no way through')));
  });

  it('at the passthrough limit the oldest passthrough makes room for a new one', async () => {
    const small = await bootTestNode('small-router.dev', { quotas: { maxPassthroughs: 1 } });
    const far = await bootTestNode('far.dev');
    const second = await bootTestNode('second.dev');
    nodes.push(small, far, second);
    feedPki([small, far, caller, second], [small, caller, second]);
    declareIndirect([small, far, caller, second], far, ['small-router.dev']);
    assert.equal(await hiEventually(caller, 'far.dev', 'first'), 'ack');
    assert.equal(await hi(second, 'far.dev', 'second'), 'ack');
    assert.ok(small.logs.some((l) => l.includes('at the limit of 1 passthroughs (-- --max-passthroughs or KIT_MAX_PASSTHROUGHS raises it): closing the oldest, caller.dev -> far.dev')));
    await until(async () => !(await peersOf(caller)).includes('far.dev'), 'caller.dev to lose its passthrough to far.dev');
    assert.match(await diagnostics(small), /we have 1 active passthroughs:\n {4}second\.dev -> far\.dev/);
    // and caller.dev gets through again, at second.dev's expense
    assert.equal(await hi(caller, 'far.dev', 'again'), 'ack');
  });

  it('a real indirect node (proxy_request: true in its handshake) is routed for, and answers a ConnectionRequest by opening the other half', async () => {
    // As a Hyperdrive indirect node does it: its connection to the router asks for routing ...
    const secretKey = rawIdentity(router, 'far-away.dev', { routers: ['router.dev'] });
    caller.kernel.tell(
      TESTER,
      'our@net:distro:sys',
      encodeHnsUpdate({ name: 'far-away.dev', publicKey: Buffer.from(ed25519.getPublicKey(secretKey)).toString('hex'), ips: [], ports: {}, routers: ['router.dev'] }),
    );
    const raw = await rawPeer(router, 'far-away.dev', { proxyRequest: true, secretKey });
    raw.hi('router.dev', 'hello, router');
    const ack = await raw.next();
    assert.equal(ack.message.tag, 'response');
    assert.match(await diagnostics(router), /far-away\.dev, \(routing\)/);

    // ... the router relays the caller as a ConnectionRequest (utils.rs create_passthrough: expects a Response in 5 s) ...
    const answered = caller.kernel.request(TESTER, 'far-away.dev@net:distro:sys', 'through a fake router', { timeoutSecs: 10 });
    const cr = await raw.next();
    assert.equal(cr.source.node, 'router.dev');
    assert.equal(cr.target.node, 'far-away.dev');
    assert.ok(cr.message.tag === 'request');
    assert.equal(cr.message.val.expectsResponse, 5n);
    assert.deepEqual(unpack(cr.message.val.body), { ConnectionRequest: 'caller.dev' });

    // ... and it opens the other half (ws/mod.rs recv_via_router): a RoutingRequest, then the XX handshake as responder.
    const ws = new WebSocket(`ws://127.0.0.1:${router.node.net.port}`);
    await new Promise((r) => ws.once('open', r));
    const nextFrame = frameQueue(ws);
    ws.send(encodeRoutingRequest({ protocolVersion: 1, source: 'far-away.dev', signature: ed25519.sign(utf8('caller.dev' + 'router.dev'), secretKey), target: 'caller.dev' }));
    const s = generateKeyPair();
    const hs = new XXHandshake({ initiator: false, staticKey: s });
    hs.readMessage(await nextFrame());
    ws.send(hs.writeMessage(encodeHandshakePayload({ protocolVersion: 1, name: 'far-away.dev', signature: ed25519.sign(s.publicKey, secretKey), proxyRequest: false })));
    hs.readMessage(await nextFrame());
    const t = hs.finish();
    const reassembler = new Reassembler();
    let got: Uint8Array[] = [];
    while (got.length === 0) got = reassembler.push(t.decrypt(await nextFrame()));
    const req = decodeKernelMessage(got[0]);
    assert.equal(req.source.node, 'caller.dev');
    assert.ok(req.message.tag === 'request');
    assert.equal(fromUtf8(req.message.val.body), 'through a fake router');
    ws.send(
      t.encrypt(
        frame(
          encodeKernelMessage({
            id: req.id,
            source: { node: 'far-away.dev', process: systemProcess('net') },
            target: req.source,
            message: { tag: 'response', val: [{ inherit: false, body: utf8('ack'), capabilities: [] }, undefined] },
          }),
        ),
      ),
    );
    assert.equal(fromUtf8((await answered).response.body), 'ack');
    ws.terminate();
    raw.ws.terminate();
  });

  it('an indirect node sends no Response to a ConnectionRequest, and opens nothing for one that is not from its router', async () => {
    // mod.rs handle_remote_request: a ConnectionRequest from a node that is not one of our routers is dropped.
    const hidden = nodes.find((n) => n.name === 'hidden.dev') as TestNode;
    const stranger = await rawPeer(hidden, 'stranger.dev');
    stranger.send({
      id: 42n,
      source: { node: 'stranger.dev', process: systemProcess('net') },
      target: { node: 'hidden.dev', process: systemProcess('net') },
      message: { tag: 'request', val: { inherit: false, expectsResponse: 5n, body: encodeNetAction({ kind: 'ConnectionRequest', node: 'caller.dev' }), capabilities: [] } },
    });
    // A hi sent after it is answered first: nothing came back for the ConnectionRequest.
    stranger.hi('hidden.dev', 'after the request', 43n);
    const first = await stranger.next();
    assert.equal(first.id, 43n);
    await waitFor(() => hidden.prints.some((l) => l.includes('stranger.dev: after the request')), 'the hi');
    stranger.ws.terminate();
  });
});
