// net:distro:sys from inside a component, as hyperdrive/src/net/mod.rs (Hyperdrive 1.9.2) answers.
// Bodies are MessagePack (rmp-serde: unit variants as strings, the rest as one-key maps).
// Where ours differs on purpose (N1: who may feed the PKI), the case says so.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ed25519 } from '@noble/curves/ed25519.js';
import { createLogger } from '../../src/core/log.js';
import { type Capability, messagingCap, NETWORK_PARAMS, type ProcessId, systemProcess } from '../../src/core/types.js';
import type { Kernel } from '../../src/runtime/kernel/kernel.js';
import { encodeHnsUpdate, netRootCap } from '../../src/runtime/modules/net/index.js';
import { pack, unpack } from '../../src/runtime/modules/net/wire.js';
import { bootNode, type RunningNode } from '../../src/runtime/node.js';
import { type Answer, bootConformanceNode, type ConformanceNode, type DriverHandle, runDriverAs } from './harness.js';

const NET = 'net:distro:sys';
const FEEDER: ProcessId = { processName: 'feeder', packageName: 'conformance', publisherNode: 'kit-tests.os' };
const msgpack = (a: Answer) => unpack(Buffer.from(a.body64, 'base64'));
const hnsUpdate = (name: string, publicKey: string, ws: number) => ({ HnsUpdate: [name, publicKey, ['127.0.0.1'], { ws }, []] });

/** A native process on `node` that may feed its PKI, as the tests' stand-in for hns-indexer. */
async function feeder(node: RunningNode): Promise<(n: RunningNode) => void> {
  const our = (p: ProcessId) => ({ node: node.name, process: p });
  const caps: Capability[] = [messagingCap(our(systemProcess('net'))), netRootCap(node.name), { issuer: our(systemProcess('kernel')), params: NETWORK_PARAMS }];
  // public: net's answers reach it (every Response is capability-checked, hyperdrive/src/kernel/mod.rs)
  await (node.kernel as Kernel).addNative({ id: FEEDER, isPublic: true, handle: () => {} }, caps);
  return (about) =>
    node.kernel.tell(
      FEEDER,
      'our@net:distro:sys',
      encodeHnsUpdate({ name: about.name, publicKey: about.net.publicKeyHex, ips: ['127.0.0.1'], ports: { ws: about.net.port }, routers: [] }),
    );
}

describe('conformance: net', { timeout: 300_000 }, () => {
  let c: ConformanceNode;
  let other: RunningNode;
  const otherPrints: string[] = [];
  const otherHome = mkdtempSync(join(tmpdir(), 'kit-conformance-net-'));
  let driver: DriverHandle;
  const peer = async (name: string) => msgpack(await driver.answer(NET, pack({ GetPeer: name })));

  before(async () => {
    c = await bootConformanceNode([
      {
        name: 'net-conf',
        processes: [
          {
            name: 'driver',
            request_networking: true,
            request_capabilities: ['http-server:distro:sys', NET],
            grant_capabilities: ['http-server:distro:sys', NET],
          },
          {
            name: 'rooted',
            request_capabilities: ['http-server:distro:sys', NET, { process: NET, params: { root: true } }],
            grant_capabilities: ['http-server:distro:sys', NET],
          },
        ],
      },
    ]);
    driver = c.driver('driver', 'net-conf');
    other = await bootNode({ home: join(otherHome, 'home'), port: 0, name: 'other.dev', log: createLogger({ target: 'other.dev', terminal: null, file: null }) });
    (other.kernel as Kernel).setPrinter((_v, t) => otherPrints.push(t));
    const feedOurs = await feeder(c.node);
    const feedOther = await feeder(other);
    feedOurs(other);
    feedOther(c.node);
  });
  after(async () => {
    await other?.stop();
    await c?.stop();
    rmSync(otherHome, { recursive: true, force: true });
  });

  it('GetPeer of our own name is our Identity (mod.rs: `NetResponse::Peer(Some(ext.our))`), of a stranger null', async () => {
    assert.deepEqual(await peer('fake.dev'), { Peer: ['fake.dev', c.node.net.publicKeyHex, { Direct: ['127.0.0.1', { ws: c.node.net.port }] }] });
    assert.deepEqual(await peer('nobody.dev'), { Peer: null });
  });

  it('HnsUpdate from a process holding only net messaging is ignored (differs on purpose: mod.rs handle_local_request takes it from anyone)', async () => {
    const sent = await driver.send(NET, pack(hnsUpdate('planted.dev', 'ab'.repeat(32), 9)), { timeout: null });
    assert.deepEqual(sent, { sent: true });
    assert.deepEqual(await peer('planted.dev'), { Peer: null });
  });

  it('HnsUpdate from a holder of net\'s root capability feeds the PKI (utils.rs ingest_log: an IP makes it Direct)', async () => {
    await c.driver('rooted', 'net-conf').send(NET, pack(hnsUpdate('rooted.dev', 'cd'.repeat(32), 9)), { timeout: null });
    assert.deepEqual(await peer('rooted.dev'), { Peer: ['rooted.dev', 'cd'.repeat(32), { Direct: ['127.0.0.1', { ws: 9 }] }] });
  });

  it('the real hns-indexer, holding what its manifest grants (net messaging only), feeds the PKI with HnsBatchUpdate', async () => {
    // hyperdrive/packages/hns-indexer/pkg/manifest.json: request_capabilities "net:distro:sys", no root.
    const indexer = await runDriverAs(c.node, 'hns-indexer:hns-indexer:sys', [messagingCap({ node: 'fake.dev', process: systemProcess('net') })]);
    const batch = { HnsBatchUpdate: [['fed.dev', 'ef'.repeat(32), [], {}, ['router.dev']]] };
    await indexer.send(NET, pack(batch), { timeout: null });
    assert.deepEqual(await peer('fed.dev'), { Peer: ['fed.dev', 'ef'.repeat(32), { Routers: ['router.dev'] }] });
  });

  it('Sign answers "Signed" with the signature of source ++ blob; Verify checks it, with our own key for a node not in the PKI (utils.rs validate_signature)', async () => {
    const signed = await driver.answer(NET, pack('Sign'), { blob: 'to be signed' });
    assert.equal(msgpack(signed), 'Signed');
    const signature = Buffer.from(signed.blob?.base64 ?? '', 'base64');
    const me = 'fake.dev@driver:net-conf:kit-tests.os';
    assert.ok(ed25519.verify(signature, Buffer.from(`${me}to be signed`), Buffer.from(c.node.net.publicKeyHex, 'hex')));
    // fake.dev is not in its own PKI (no chain here): the real node falls back to its own key.
    const verify = (from: string) => driver.answer(NET, pack({ Verify: [from, [...signature]] }), { blob: 'to be signed' });
    assert.deepEqual(msgpack(await verify(me)), { Verified: true });
    assert.deepEqual(msgpack(await verify('stranger.dev@driver:net-conf:kit-tests.os')), { Verified: false });
  });

  it('a local ConnectionRequest and a local body that is not a NetAction get no Response (mod.rs: ignored, or fd-manager\'s)', async () => {
    assert.deepEqual(await driver.send(NET, pack({ ConnectionRequest: 'other.dev' }), { timeout: 1 }), { sendError: { kind: 'timeout', target: `fake.dev@${NET}` } });
    assert.deepEqual(await driver.send(NET, 'hello, myself', { timeout: 1 }), { sendError: { kind: 'timeout', target: `fake.dev@${NET}` } });
  });

  it('another node\'s net prints a hello and answers "ack"; any NetAction but ConnectionRequest and HnsUpdate is a hello too (mod.rs handle_remote_request)', async () => {
    const a = await driver.answer(`other.dev@${NET}`, 'hi from a component', { timeout: 10 });
    assert.equal(a.source, `other.dev@${NET}`);
    assert.equal(a.body, 'ack');
    assert.ok(otherPrints.some((l) => l.includes('fake.dev: hi from a component')));
    // "GetPeers" in MessagePack is not UTF-8 (its 0xa8 header): printed as the real node prints it.
    assert.equal((await driver.answer(`other.dev@${NET}`, pack('GetPeers'), { timeout: 10 })).body, 'ack');
    assert.ok(otherPrints.some((l) => l.includes('fake.dev: !!message parse error!!')));
  });

  it('another node\'s net gives no Response to a ConnectionRequest or an HnsUpdate, and its PKI does not change', async () => {
    const timeout = { sendError: { kind: 'timeout', target: `other.dev@${NET}` } };
    assert.deepEqual(await driver.send(`other.dev@${NET}`, pack({ ConnectionRequest: 'fake.dev' }), { timeout: 2 }), timeout);
    assert.deepEqual(await driver.send(`other.dev@${NET}`, pack(hnsUpdate('fake.dev', '00'.repeat(32), 1)), { timeout: 2 }), timeout);
    const r = await other.kernel.request(FEEDER, 'our@net:distro:sys', pack({ GetPeer: 'fake.dev' }));
    assert.deepEqual(unpack(r.response.body), { Peer: ['fake.dev', c.node.net.publicKeyHex, { Direct: ['127.0.0.1', { ws: c.node.net.port }] }] });
  });
});
