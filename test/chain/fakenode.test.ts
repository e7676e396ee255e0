// Fake nodes on the chain: boot registers the name (direct and indirect), a name held by a live
// node with another key is refused, no chain -> a clear error; the eth module's API; hns-indexer
// turning Hypermap events into HnsUpdate messages for net and answering node-info queries.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pack, unpack } from 'msgpackr';
import { keccak256, stringToBytes, zeroAddress } from 'viem';
import {
  type Chain,
  chainClients,
  HYPERMAP,
  hypermapAbi,
  NameTakenError,
  namehash,
  registerName,
  startChain,
} from '../../src/chain/index.js';
import type { KernelApi, NativeProcess } from '../../src/runtime/kernel/api.js';
import type { Kernel } from '../../src/runtime/kernel/kernel.js';
import { createHnsIndexer, HNS_INDEXER_PROCESS } from '../../src/runtime/packages/hns-indexer/index.js';
import { bootNode, type RunningNode } from '../../src/runtime/node.js';
import { fromUtf8, jsonBytes, type KernelMessage, messagingCap, type ProcessId, systemProcess } from '../../src/core/types.js';
import { freePort } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'kit-chain-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

async function onchain(c: Chain, name: string) {
  const [tba, owner, data] = await chainClients(c.url).public.readContract({ address: HYPERMAP, abi: hypermapAbi, functionName: 'get', args: [namehash(name)] });
  return { tba, owner, data };
}

/** A native process that records what it is sent (test double for net / a user process). */
function probe(name: string): NativeProcess & { got: KernelMessage[]; kernel: KernelApi; next(pred: (km: KernelMessage) => boolean): Promise<KernelMessage> } {
  const got: KernelMessage[] = [];
  let waiters: { pred: (km: KernelMessage) => boolean; res: (km: KernelMessage) => void }[] = [];
  const p = {
    id: { processName: name, packageName: 'probe', publisherNode: 'sys' } as ProcessId,
    // public: whatever it asks may answer it (every Response is capability-checked)
    isPublic: true,
    got,
    kernel: undefined as unknown as KernelApi,
    start(k: KernelApi) {
      p.kernel = k;
    },
    handle(km: KernelMessage) {
      got.push(km);
      waiters = waiters.filter((w) => {
        if (!w.pred(km)) return true;
        w.res(km);
        return false;
      });
    },
    next(pred: (km: KernelMessage) => boolean) {
      const hit = got.find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise<KernelMessage>((res, rej) => {
        const t = setTimeout(() => rej(new Error(`${name}: nothing matching arrived in 15 s`)), 15_000);
        waiters.push({
          pred,
          res: (km) => {
            clearTimeout(t);
            res(km);
          },
        });
      });
    },
  };
  return p;
}

const body = (km: KernelMessage) => (km.message.tag === 'request' ? km.message.val.body : km.message.val[0].body);

describe('fake node registration', () => {
  let chainPort: number;
  let a: RunningNode;
  let b: RunningNode;
  before(async () => {
    chainPort = await freePort();
    a = await bootNode({ home: join(tmp, 'a'), port: 0, name: 'rega.dev', fakechainPort: chainPort });
    b = await bootNode({ home: join(tmp, 'b'), port: 0, name: 'regb.dev', fakechainPort: chainPort, routers: ['rega.dev'] });
  });
  after(async () => {
    await b?.stop();
    await a?.stop();
  });

  test('the first node starts the chain; both names are minted with ~net-key', async () => {
    assert.equal(a.fakechain?.owned, true);
    assert.equal(b.fakechain?.owned, false);
    const c = { url: a.fakechain!.url } as Chain;
    const ra = await onchain(c, 'rega.dev');
    assert.equal(ra.tba, a.fakechain!.tba);
    assert.equal((await onchain(c, '~net-key.rega.dev')).data, `0x${a.fakechain!.publicKeyHex}`);
    assert.equal(a.fakechain!.publicKeyHex, a.net.publicKeyHex, 'the key on chain is the net module\'s');
    assert.equal((await onchain(c, '~ws-port.rega.dev')).data, `0x${a.net.port.toString(16).padStart(4, '0')}`);
    assert.equal((await onchain(c, '~net-key.regb.dev')).data, `0x${b.fakechain!.publicKeyHex}`);
  });

  test('a direct node has ~ip 127.0.0.1 and ~ws-port; an indirect node has ~routers and no ~ip', async () => {
    const c = { url: a.fakechain!.url } as Chain;
    assert.equal((await onchain(c, '~ip.rega.dev')).data, '0x7f000001');
    assert.equal((await onchain(c, '~routers.regb.dev')).data, namehash('rega.dev'));
    assert.equal((await onchain(c, '~ip.regb.dev')).data, '0x');
    assert.equal((await onchain(c, '~ws-port.regb.dev')).data, '0x');
  });

  test('hns-indexer answers node-info queries for both nodes', async () => {
    const p = probe('asker');
    await (b.kernel as Kernel).addNative(p, [messagingCap({ node: b.name, process: HNS_INDEXER_PROCESS })]);
    const ask = async (q: unknown) => JSON.parse(fromUtf8((await p.kernel.request(p.id, { node: b.name, process: HNS_INDEXER_PROCESS }, jsonBytes(q))).response.body));
    const head = Number(await chainClients(b.fakechain!.url).public.getBlockNumber());
    const info = await ask({ NodeInfo: { name: 'regb.dev', block: head } });
    assert.deepEqual(info, { NodeInfo: { name: 'regb.dev', public_key: b.fakechain!.publicKeyHex, ips: [], ports: [], routers: ['rega.dev'] } });
    const ia = await ask({ NodeInfo: { name: 'rega.dev', block: head } });
    assert.equal(ia.NodeInfo.public_key, a.fakechain!.publicKeyHex);
    assert.deepEqual(ia.NodeInfo.ips, ['127.0.0.1']);
    assert.deepEqual(await ask({ NodeInfo: { name: 'nobody.dev', block: 0 } }), { NodeInfo: null });
    assert.deepEqual(await ask({ NamehashToName: { hash: namehash('rega.dev'), block: 0 } }), { Name: 'rega.dev' });
  });

  test('each node learns the other from the chain: hns-indexer feeds net\'s PKI', async () => {
    const NET = systemProcess('net');
    const p = probe('pki-asker');
    await (b.kernel as Kernel).addNative(p, [messagingCap({ node: b.name, process: NET })]);
    const deadline = Date.now() + 15_000;
    let peer: unknown = null;
    while (peer === null && Date.now() < deadline) {
      const reply = await p.kernel.request(p.id, { node: b.name, process: NET }, new Uint8Array(pack({ GetPeer: 'rega.dev' })));
      peer = (unpack(reply.response.body) as { Peer: unknown }).Peer;
      if (peer === null) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(peer, 'regb.dev\'s net knows rega.dev');
    assert.match(JSON.stringify(peer), new RegExp(a.fakechain!.publicKeyHex));
    assert.match(JSON.stringify(peer), new RegExp(String(a.net.port)));
  });

  test('rebooting a name whose old node is gone takes it over; a live holder with another key is refused', async () => {
    const url = a.fakechain!.url;
    const other = 'ab'.repeat(32);
    // rega.dev is registered without a reachable ws port: a stale holder, so a new key takes over.
    await registerName({ chainUrl: url, name: 'stale.dev', publicKeyHex: '11'.repeat(32) });
    const r = await registerName({ chainUrl: url, name: 'stale.dev', publicKeyHex: other });
    assert.equal(r.minted, false);
    assert.equal((await onchain({ url } as Chain, '~net-key.stale.dev')).data, `0x${other}`);
    // A holder that answers on its ws port keeps its name.
    const srv = createServer();
    const port = await new Promise<number>((res) => srv.listen(0, '127.0.0.1', () => res((srv.address() as { port: number }).port)));
    try {
      await registerName({ chainUrl: url, name: 'live.dev', publicKeyHex: '22'.repeat(32), wsPort: port });
      await assert.rejects(() => registerName({ chainUrl: url, name: 'live.dev', publicKeyHex: other }), (e: Error) => {
        assert.ok(e instanceof NameTakenError);
        assert.match(e.message, /live\.dev is already registered on the chain with another networking key/);
        return true;
      });
      // The same key may re-register (a --persist reboot).
      const again = await registerName({ chainUrl: url, name: 'live.dev', publicKeyHex: '22'.repeat(32), wsPort: port });
      assert.equal(again.minted, false);
    } finally {
      srv.close();
    }
  });

  test('a persisted home keeps its key; a wrong password is refused', async () => {
    const home = join(tmp, 'p');
    const n1 = await bootNode({ home, port: 0, name: 'keep.dev', fakechainPort: chainPort, persist: true });
    const key = n1.fakechain!.publicKeyHex;
    await n1.stop();
    const n2 = await bootNode({ home, port: 0, name: 'keep.dev', fakechainPort: chainPort, persist: true });
    assert.equal(n2.fakechain!.publicKeyHex, key);
    await n2.stop();
    await assert.rejects(() => bootNode({ home, port: 0, name: 'keep.dev', fakechainPort: chainPort, persist: true, password: 'wrong' }), /password/);
  });
});

describe('fake node without a chain', () => {
  test('a chain port held by something else is a clear error that says to run kit chain', async () => {
    const srv = createServer((_q, r) => r.end('nope'));
    const port = await new Promise<number>((res) => srv.listen(0, '127.0.0.1', () => res((srv.address() as { port: number }).port)));
    try {
      await assert.rejects(
        () => bootNode({ home: join(tmp, 'x'), port: 0, name: 'nochain.dev', fakechainPort: port }),
        (e: Error) => {
          assert.equal(e.name, 'FakeChainUnavailableError');
          assert.match(e.message, new RegExp(`kit chain -p ${port}`));
          return true;
        },
      );
    } finally {
      srv.close();
    }
  });
});

describe('eth:distro:sys and hns-indexer over a chain given with --rpc', () => {
  let chain: Chain;
  let node: RunningNode;
  let user: ReturnType<typeof probe>;
  let net: ReturnType<typeof probe>;
  const ETH = systemProcess('eth');
  const eth = async (q: unknown, from = () => user) =>
    JSON.parse(fromUtf8((await from().kernel.request(from().id, { node: node.name, process: ETH }, jsonBytes(q))).response.body));

  before(async () => {
    chain = await startChain({ port: await freePort() });
    node = await bootNode({ home: join(tmp, 'e'), port: 0, name: 'ethnode.dev', rpc: chain.url });
    const k = node.kernel as Kernel;
    user = probe('user');
    await k.addNative(user, [messagingCap({ node: node.name, process: ETH })]);
    net = probe('net-double');
    await k.addNative(net);
    const indexer = createHnsIndexer({ net: net.id });
    await k.addNative(indexer, [messagingCap({ node: node.name, process: ETH }), messagingCap({ node: node.name, process: net.id })]);
    k.grant(ETH, [messagingCap({ node: node.name, process: indexer.id })]); // as its manifest grants eth
    await indexer.ready;
  });
  after(async () => {
    await node?.stop();
    await chain?.stop();
  });

  test('Request runs any JSON-RPC call on the provider of the chain id', async () => {
    assert.deepEqual(await eth({ Request: { chain_id: 31337, method: 'eth_chainId', params: [] } }), { Response: '0x7a69' });
    const code = await eth({ Request: { chain_id: 31337, method: 'eth_getCode', params: [HYPERMAP, 'latest'] } });
    assert.ok(code.Response.length > 2);
  });

  test('errors: no provider for a chain, a method eth does not pass on, an RPC error, a malformed request', async () => {
    assert.deepEqual(await eth({ Request: { chain_id: 1, method: 'eth_chainId', params: [] } }), { Err: 'NoRpcForChain' });
    assert.deepEqual(await eth({ Request: { chain_id: 31337, method: 'eth_noSuchMethod', params: [] } }), { Err: { InvalidMethod: 'eth_noSuchMethod' } });
    const bad = await eth({ Request: { chain_id: 31337, method: 'eth_getBalance', params: ['not an address', 'latest'] } });
    assert.ok(bad.Err?.RpcError, JSON.stringify(bad));
    assert.deepEqual(await eth({ Nonsense: 1 }), { Err: 'MalformedRequest' });
  });

  test('SubscribeLogs delivers matching logs as Requests; UnsubscribeLogs stops them', async () => {
    const mint = keccak256(stringToBytes('Mint(bytes32,bytes32,bytes,bytes)'));
    assert.equal(await eth({ SubscribeLogs: { sub_id: 7, chain_id: 31337, kind: 'logs', params: { address: HYPERMAP, topics: [mint] } } }), 'Ok');
    await registerName({ chainUrl: chain.url, name: 'subbed.dev', publicKeyHex: '33'.repeat(32) });
    const km = await user.next((m) => m.message.tag === 'request' && m.source.process.processName === 'eth');
    const update = JSON.parse(fromUtf8(body(km)));
    assert.equal(update.Ok.id, 7);
    assert.equal(update.Ok.result.topics[0], mint);
    assert.equal(update.Ok.result.topics[2], namehash('subbed.dev'));
    assert.equal(await eth({ UnsubscribeLogs: 7 }), 'Ok');
  });

  test('a newHeads subscription delivers each new block header', async () => {
    assert.equal(await eth({ SubscribeLogs: { sub_id: 8, chain_id: 31337, kind: 'newHeads', params: null } }), 'Ok');
    const before = await chainClients(chain.url).public.getBlockNumber();
    await chainClients(chain.url).test.mine({ blocks: 1 });
    const km = await user.next((m) => {
      try {
        return JSON.parse(fromUtf8(body(m))).Ok?.id === 8;
      } catch {
        return false;
      }
    });
    const header = JSON.parse(fromUtf8(body(km))).Ok.result;
    assert.equal(BigInt(header.number), before + 1n);
    assert.equal(await eth({ UnsubscribeLogs: 8 }), 'Ok');
  });

  test('a sub_id above 2^53 (process_lib lets a process pick any u64) comes back in its updates digit for digit', async () => {
    const id = 18446744073709551557n;
    assert.equal(await eth({ SubscribeLogs: { sub_id: id, chain_id: 31337, kind: 'newHeads', params: null } }), 'Ok');
    await chainClients(chain.url).test.mine({ blocks: 1 });
    const km = await user.next((m) => fromUtf8(body(m)).includes(`"id":${id}`));
    assert.match(fromUtf8(body(km)), /^\{"Ok":\{"id":18446744073709551557,/);
    assert.equal(await eth({ UnsubscribeLogs: id }), 'Ok');
  });

  test('the config API needs eth\'s root capability; with it providers can be read and added', async () => {
    assert.equal(await eth('GetProviders'), 'PermissionDenied');
    const admin = probe('admin');
    await (node.kernel as Kernel).addNative(admin, [
      messagingCap({ node: node.name, process: ETH }),
      { issuer: { node: node.name, process: ETH }, params: JSON.stringify({ root: true }) },
    ]);
    const providers = await eth('GetProviders', () => admin);
    assert.deepEqual(providers.Providers, [{ chain_id: 31337, trusted: true, provider: { RpcUrl: { url: chain.url } } }]);
    const extra = { chain_id: 8453, trusted: false, provider: { RpcUrl: { url: 'wss://example.invalid', auth: null } } };
    assert.equal(await eth({ AddProvider: extra }, () => admin), 'Ok');
    const saved = JSON.parse(readFileSync(join(node.home, '.eth_providers'), 'utf8'));
    assert.ok(saved.some((p: { chain_id: number }) => p.chain_id === 8453));
    assert.equal(await eth({ RemoveProvider: [8453, 'wss://example.invalid'] }, () => admin), 'Ok');
    assert.equal(await eth('SetPublic', () => admin), 'Ok');
    assert.deepEqual(await eth('GetAccessSettings', () => admin), { AccessSettings: { public: true, allow: [], deny: [] } });
    const state = await eth('GetState', () => admin);
    assert.ok(state.State && 'active_subscriptions' in state.State);
  });

  test('hns-indexer sends net an HnsUpdate once a record has a key and ip+port (or routers)', async () => {
    await registerName({ chainUrl: chain.url, name: 'direct.dev', publicKeyHex: '44'.repeat(32), wsPort: 9123 });
    await registerName({ chainUrl: chain.url, name: 'viarouter.dev', publicKeyHex: '55'.repeat(32), routers: ['direct.dev'] });
    const isUpdate = (name: string) => (km: KernelMessage) => {
      try {
        return (unpack(body(km)) as { HnsUpdate?: unknown[] }).HnsUpdate?.[0] === name;
      } catch {
        return false;
      }
    };
    const d = unpack(body(await net.next(isUpdate('direct.dev'))));
    assert.deepEqual(d, { HnsUpdate: ['direct.dev', '44'.repeat(32), ['127.0.0.1'], { ws: 9123 }, []] });
    const r = unpack(body(await net.next(isUpdate('viarouter.dev'))));
    assert.deepEqual(r, { HnsUpdate: ['viarouter.dev', '55'.repeat(32), [], {}, ['direct.dev']] });
    // A name with only a key (no way to reach it) is not sent.
    await registerName({ chainUrl: chain.url, name: 'unreachable.dev', publicKeyHex: '66'.repeat(32) });
    const [tba] = await chainClients(chain.url).public.readContract({ address: HYPERMAP, abi: hypermapAbi, functionName: 'get', args: [namehash('unreachable.dev')] });
    assert.notEqual(tba, zeroAddress);
    assert.equal(net.got.some(isUpdate('unreachable.dev')), false);
  });
});
