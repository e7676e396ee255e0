// Issue 19's network quotas: a registered peer cannot hold connections without bound (the sweep
// held 40 under one name, each 9.8 MB into a 10 MB message), and no connection holds more than
// NetOptions.maxBufferedBytes, in or out. Each limit says so in the node's log, and the node keeps
// answering everyone else.

import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SendErrorException } from '../../src/runtime/kernel/api.js';
import { systemProcess } from '../../src/core/types.js';
import { bootTestNode, feedPki, rawIdentity, rawPeer, TESTER, type TestNode, waitFor } from './helpers.js';

async function hi(from: TestNode, to: string, text: string): Promise<string> {
  const reply = await from.kernel.request(TESTER, `${to}@net:distro:sys`, text, { timeoutSecs: 5 });
  return new TextDecoder().decode(reply.response.body);
}

describe('net quotas', () => {
  let node: TestNode;
  let friend: TestNode;
  const LIMIT = 256 * 1024;

  before(async () => {
    node = await bootTestNode('quota.dev', { quotas: { maxConnectionsPerPeer: 2, maxBufferedBytes: LIMIT } });
    friend = await bootTestNode('friend.dev');
    feedPki([node, friend], [node, friend]);
  });
  after(async () => {
    await node?.node.stop();
    await friend?.node.stop();
  });

  it('a node name opening more connections than maxConnectionsPerPeer loses its oldest, with a log line', async () => {
    const secretKey = rawIdentity(node, 'many.dev');
    const conns = [];
    for (let i = 0; i < 4; i++) {
      const p = await rawPeer(node, 'many.dev', { secretKey });
      // Each is authenticated and carrying messages before the next one opens.
      p.hi('quota.dev', `connection ${i}`, BigInt(i + 1));
      assert.equal((await p.next()).id, BigInt(i + 1));
      conns.push(p);
    }
    await conns[0].closed;
    await conns[1].closed;
    // The two newest stay: both are read, and answers go out on the newest.
    conns[2].hi('quota.dev', 'third still here', 98n);
    conns[3].hi('quota.dev', 'fourth still here', 99n);
    await waitFor(() => node.prints.some((l) => l.includes('many.dev: third still here')), 'the third connection read');
    assert.deepEqual([(await conns[3].next()).id, (await conns[3].next()).id].sort(), [98n, 99n]);
    assert.ok(node.logs.some((l) => l.includes('many.dev opened connection 3, over the limit of 2 per node (--peer-connections or KIT_PEER_CONNECTIONS raises it); closing its oldest')));
    assert.equal(await hi(friend, 'quota.dev', 'others are fine'), 'ack');
    for (const p of conns) p.ws.terminate();
  });

  it('a peer announcing a message larger than maxBufferedBytes is dropped; one within it gets through', async () => {
    const greedy = await rawPeer(node, 'greedy.dev');
    const body = (n: number) => new Uint8Array(n).fill(0x41);
    const msg = (n: number, id: bigint) => ({
      id,
      source: { node: greedy.name, process: TESTER },
      target: { node: 'quota.dev', process: systemProcess('net') },
      message: { tag: 'request' as const, val: { inherit: false, expectsResponse: 5n, body: body(n), capabilities: [] } },
    });
    // About 200 KB serialized (a byte array of 0x41s is one byte each): within the limit, in four pieces.
    greedy.send(msg(200_000, 1n));
    assert.equal((await greedy.next()).id, 1n);
    // 300 KB announced: the connection goes at its first piece, before the rest is held.
    greedy.send(msg(300_000, 2n));
    await greedy.closed;
    assert.ok(node.logs.some((l) => /greedy\.dev: peer announced a \d+-byte message, over this node's limit of 262144 bytes buffered per connection \(--peer-buffer-mb or KIT_PEER_BUFFER_MB raises it\)/.test(l)));
    assert.equal(await hi(friend, 'quota.dev', 'still answering'), 'ack');
  });

  it('messages to a peer that does not read come back Offline once maxBufferedBytes wait unsent', async () => {
    const sleepy = await rawPeer(node, 'sleepy.dev');
    sleepy.hi('quota.dev', 'then I sleep', 1n);
    await sleepy.next();
    // It stops reading: what the node sends piles up, first in the kernel's socket buffers, then in ours.
    (sleepy.ws as unknown as { _socket: Socket })._socket.pause();
    const chunk = new Uint8Array(100_000).fill(7);
    const outcomes = await Promise.all(
      Array.from({ length: 300 }, () =>
        node.kernel.request(TESTER, 'sleepy.dev@net:distro:sys', chunk, { timeoutSecs: 2 }).then(
          () => 'answered',
          (e: unknown) => (e instanceof SendErrorException ? `${e.sendError.kind}: ${e.reason ?? ''}` : String(e)),
        ),
      ),
    );
    assert.ok(
      outcomes.some((o) => o.startsWith('offline') && o.includes('sleepy.dev is not reading what we send')),
      `no message came back Offline: ${[...new Set(outcomes)].join(' | ')}`,
    );
    assert.ok(node.logs.some((l) => l.includes('net: sleepy.dev is not reading') && l.includes('(--peer-buffer-mb or KIT_PEER_BUFFER_MB raises it)')));
    sleepy.ws.terminate();
    assert.equal(await hi(friend, 'quota.dev', 'after the sleeper'), 'ack');
  });

  it('options out of range are refused with what to set', async () => {
    await assert.rejects(bootTestNode('bad-quota.dev', { quotas: { maxBufferedBytes: 1000 } }), /NetOptions\.maxBufferedBytes must be an integer of at least 131070, not 1000/);
  });
});
