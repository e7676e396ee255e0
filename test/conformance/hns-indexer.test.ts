// hns-indexer:hns-indexer:sys from inside a component, in the JSON shapes of its WIT
// (hyperdrive/packages/hns-indexer/api/hns-indexer:sys-v0.wit) as
// hyperdrive/packages/hns-indexer/hns-indexer/src/lib.rs (Hyperdrive 1.9.2) answers them, on a fake
// node with its chain.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hexToBytes } from 'viem';
import { registerName } from '../../src/chain/index.js';
import { HYPERMAP, namehash } from '../../src/core/hypermap.js';
import { type Capability, fromUtf8, jsonBytes, messagingCap } from '../../src/core/types.js';
import { pack, unpack } from '../../src/runtime/modules/net/wire.js';
import { HNS_INDEXER_PROCESS } from '../../src/runtime/packages/hns-indexer/index.js';
import { freePort } from '../chain/helpers.js';
import { bootConformanceNode, type ConformanceNode, type DriverHandle, runDriverAs } from './harness.js';

const HNS = 'hns-indexer:hns-indexer:sys';
/** `IndexerRequest::Reset`, a unit variant: the JSON string "Reset". */
const RESET = JSON.stringify('Reset');

describe('conformance: hns-indexer', { timeout: 300_000 }, () => {
  let c: ConformanceNode;
  let driver: DriverHandle;
  let chainUrl: string;
  const ask = (body: unknown, d = () => driver) => d().json(HNS, body, { timeout: 20 });
  const nodeInfo = (name: string) => ask({ NodeInfo: { name, block: 0 } }) as Promise<{ NodeInfo: Record<string, unknown> | null }>;
  /** Ask until `ok` holds: the indexer reads the chain's logs as they come (every 100 ms). */
  const nodeInfoUntil = async (name: string, ok: (r: Record<string, unknown> | null) => boolean) => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const r = (await nodeInfo(name)).NodeInfo;
      if (ok(r)) return r;
      if (Date.now() > deadline) throw new Error(`NodeInfo ${name} never matched; last: ${JSON.stringify(r)}`);
      await new Promise((res) => setTimeout(res, 200));
    }
  };
  const rootCap: Capability = { issuer: { node: 'fake.dev', process: HNS_INDEXER_PROCESS }, params: JSON.stringify({ root: true }) };

  before(async () => {
    c = await bootConformanceNode(
      [
        {
          name: 'hns-conf',
          processes: [
            {
              name: 'driver',
              request_capabilities: ['http-server:distro:sys', HNS, 'net:distro:sys'],
              grant_capabilities: ['http-server:distro:sys', HNS, 'net:distro:sys'],
            },
            {
              name: 'rooted',
              request_capabilities: ['http-server:distro:sys', HNS, { process: HNS, params: { root: true } }],
              grant_capabilities: ['http-server:distro:sys', HNS],
            },
          ],
        },
      ],
      { fakechainPort: await freePort() },
    );
    driver = c.driver('driver', 'hns-conf');
    chainUrl = c.node.fakechain?.url ?? '';
  });
  after(async () => {
    await c?.stop();
  });

  it('NodeInfo: the record, ports as [protocol, port] pairs (wit-hns-update); an unknown name is null', async () => {
    assert.deepEqual(await nodeInfo('fake.dev'), {
      NodeInfo: { name: 'fake.dev', public_key: c.node.net.publicKeyHex, ips: ['127.0.0.1'], ports: [['ws', c.node.net.port]], routers: [] },
    });
    assert.deepEqual(await nodeInfo('nobody.dev'), { NodeInfo: null });
  });

  it('NamehashToName: the name of a hash it has seen, else null; the hash is matched as given (lowercase hex)', async () => {
    assert.deepEqual(await ask({ NamehashToName: { hash: namehash('fake.dev'), block: 0 } }), { Name: 'fake.dev' });
    assert.deepEqual(await ask({ NamehashToName: { hash: namehash('os'), block: 0 } }), { Name: 'os' });
    assert.deepEqual(await ask({ NamehashToName: { hash: namehash('fake.dev').toUpperCase().replace('0X', '0x'), block: 0 } }), { Name: null });
    assert.deepEqual(await ask({ NamehashToName: { hash: namehash('nobody.dev'), block: 0 } }), { Name: null });
  });

  it('GetState: chain_id, contract_address as 20 bytes, names and nodes as pairs, last_block (wit-state)', async () => {
    const { GetState: s } = (await ask({ GetState: { block: 0 } })) as {
      GetState: { chain_id: number; contract_address: number[]; names: [string, string][]; nodes: [string, Record<string, unknown>][]; last_block: number };
    };
    assert.deepEqual(Object.keys(s), ['chain_id', 'contract_address', 'names', 'nodes', 'last_block']);
    assert.equal(s.chain_id, 31337);
    assert.deepEqual(s.contract_address, [...hexToBytes(HYPERMAP)]);
    assert.ok(s.names.some(([h, n]) => h === namehash('fake.dev') && n === 'fake.dev'));
    assert.ok(s.names.some(([h, n]) => h === namehash('dev') && n === 'dev'));
    const me = s.nodes.find(([n]) => n === 'fake.dev');
    assert.deepEqual(me?.[1], { name: 'fake.dev', public_key: c.node.net.publicKeyHex, ips: ['127.0.0.1'], ports: [['ws', c.node.net.port]], routers: [] });
    assert.ok(Number.isInteger(s.last_block) && s.last_block > 0);
  });

  it('Reset needs a process of its own package attaching its root capability: else {"Reset":{"Err":"NoRootCap"}}', async () => {
    assert.deepEqual(await ask(RESET), { Reset: { Err: 'NoRootCap' } });
    // Holding the root capability and attaching it is not enough from another package (lib.rs checks package_id).
    const rooted = c.driver('rooted', 'hns-conf');
    assert.ok((await rooted.capabilities()).some((cap) => cap.issuer === `fake.dev@${HNS}` && JSON.parse(cap.params).root === true));
    assert.deepEqual(await rooted.json(HNS, RESET, { attachAll: true }), { Reset: { Err: 'NoRootCap' } });
    // The real `reset` script (pkg/scripts.json: holds the root capability) from its own package.
    const reset = await runDriverAs(c.node, 'reset:hns-indexer:sys', [messagingCap({ node: 'fake.dev', process: HNS_INDEXER_PROCESS }), rootCap]);
    // It sends Reset without attaching anything, as reset/src/lib.rs does: refused too.
    assert.deepEqual(await reset.json(HNS, RESET), { Reset: { Err: 'NoRootCap' } });
    assert.deepEqual(await reset.json(HNS, RESET, { attachAll: true }), { Reset: 'Success' });
    // The indexer keeps answering, from the same state (the real one restarts from what it holds in memory).
    assert.equal((await nodeInfo('fake.dev')).NodeInfo?.name, 'fake.dev');
  });

  it('a request that is not an IndexerRequest is answered at once with an error (the real indexer fails to parse it and restarts)', async () => {
    assert.deepEqual(await ask({ NodeInfo: { name: 'fake.dev' } }), { Err: 'MalformedRequest' });
    assert.deepEqual(await ask('nonsense'), { Err: 'MalformedRequest' });
  });

  it('~routers makes a node indirect: routers set, ips and ports cleared (lib.rs add_note)', async () => {
    await registerName({ chainUrl, name: 'switcher.dev', publicKeyHex: '12'.repeat(32), wsPort: 9001 });
    await nodeInfoUntil('switcher.dev', (r) => (r?.ports as unknown[] | undefined)?.length === 1);
    await registerName({ chainUrl, name: 'switcher.dev', publicKeyHex: '12'.repeat(32), routers: ['fake.dev'] });
    const r = await nodeInfoUntil('switcher.dev', (x) => (x?.routers as unknown[] | undefined)?.length === 1);
    assert.deepEqual(r, { name: 'switcher.dev', public_key: '12'.repeat(32), ips: [], ports: [], routers: ['fake.dev'] });
  });

  it('~routers naming a router not minted yet is parked and applied once it is (lib.rs pending_notes)', async () => {
    await registerName({ chainUrl, name: 'early.dev', publicKeyHex: '34'.repeat(32), routers: ['late-router.dev'] });
    const parked = await nodeInfoUntil('early.dev', (r) => r?.public_key === '34'.repeat(32));
    assert.deepEqual(parked?.routers, []);
    await registerName({ chainUrl, name: 'late-router.dev', publicKeyHex: '56'.repeat(32), wsPort: 9002 });
    const r = await nodeInfoUntil('early.dev', (x) => (x?.routers as unknown[] | undefined)?.length === 1);
    assert.deepEqual(r, { name: 'early.dev', public_key: '34'.repeat(32), ips: [], ports: [], routers: ['late-router.dev'] });
    // and net has it as an indirect node behind late-router.dev
    const peer = await driver.answer('net:distro:sys', pack({ GetPeer: 'early.dev' }));
    assert.deepEqual(unpack(Buffer.from(peer.body64, 'base64')), { Peer: ['early.dev', '34'.repeat(32), { Routers: ['late-router.dev'] }] });
  });

  it('a name it has not indexed is looked up on chain (Hypermap.get), answered and pushed to net (lib.rs handle_node_info_request)', async () => {
    // Make the indexer miss what follows: end its log subscription (sub 1) as it would be ended.
    const unsub = await c.node.kernel.request(HNS_INDEXER_PROCESS, 'our@eth:distro:sys', jsonBytes({ UnsubscribeLogs: 1 }));
    assert.equal(fromUtf8(unsub.response.body), '"Ok"');
    await registerName({ chainUrl, name: 'missed.dev', publicKeyHex: '78'.repeat(32), wsPort: 9003 });
    const peerOf = async (name: string) => unpack(Buffer.from((await driver.answer('net:distro:sys', pack({ GetPeer: name }))).body64, 'base64'));
    assert.deepEqual(await peerOf('missed.dev'), { Peer: null });
    assert.deepEqual(await nodeInfo('missed.dev'), {
      NodeInfo: { name: 'missed.dev', public_key: '78'.repeat(32), ips: ['127.0.0.1'], ports: [['ws', 9003]], routers: [] },
    });
    assert.deepEqual(await peerOf('missed.dev'), { Peer: ['missed.dev', '78'.repeat(32), { Direct: ['127.0.0.1', { ws: 9003 }] }] });
    assert.deepEqual(await ask({ NamehashToName: { hash: namehash('missed.dev'), block: 0 } }), { Name: 'missed.dev' });
  });
});

