// eth:distro:sys from inside a component, as hyperdrive/src/eth/mod.rs (Hyperdrive 1.9.2) answers
// with the types of hyperdrive/lib/src/eth.rs: both RpcUrl forms of a provider (the struct form
// process_lib sends used to crash the node), the valid_method whitelist, subscriptions, the
// config API and malformed input. A real anvil is the chain.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type AnvilProcess, spawnAnvil } from '../../src/chain/anvil.js';
import { freePort } from '../chain/helpers.js';
import { bootConformanceNode, type ConformanceNode, type DriverHandle } from './harness.js';

const ETH = 'eth:distro:sys';

describe('conformance: eth', { timeout: 180_000 }, () => {
  let anvil: AnvilProcess;
  let c: ConformanceNode;
  let user: DriverHandle;
  let admin: DriverHandle;
  let rpcServer: Server;
  let rpcUrl: string;
  const rpcSeen: IncomingHttpHeaders[] = [];
  let wsUrl: string;

  /** Subscription updates (Requests from eth) the user got since the last call. */
  const updates = async () =>
    (await user.inbox()).filter((e) => e.request?.source === `fake.dev@${ETH}`).map((e) => JSON.parse(e.request!.body) as Record<string, { id: number; result?: unknown; error?: string }>);
  async function until<T>(f: () => Promise<T | undefined>, what: string): Promise<T> {
    for (let i = 0; i < 200; i++) {
      const v = await f();
      if (v !== undefined) return v;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`timed out waiting for ${what}`);
  }
  const mine = () => fetch(anvil.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'evm_mine', params: [] }) });

  before(async () => {
    anvil = await spawnAnvil({ port: await freePort() });
    wsUrl = anvil.url.replace(/^http/, 'ws');
    // A JSON-RPC provider that wants a bearer token, for the `auth` of a provider config.
    rpcServer = createServer((req, res) => {
      let body = '';
      req.on('data', (x) => {
        body += x;
      });
      req.on('end', () => {
        rpcSeen.push(req.headers);
        const { id } = JSON.parse(body) as { id: number };
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ jsonrpc: '2.0', id, result: '0x64' }));
      });
    });
    await new Promise<void>((r) => rpcServer.listen(0, '127.0.0.1', r));
    rpcUrl = `http://127.0.0.1:${(rpcServer.address() as AddressInfo).port}`;
    c = await bootConformanceNode(
      [
        {
          name: 'eth-conf',
          processes: [
            { name: 'user', request_capabilities: [ETH], grant_capabilities: ['http-server:distro:sys', ETH] },
            { name: 'admin', request_capabilities: [ETH, { process: ETH, params: { root: true } }], grant_capabilities: ['http-server:distro:sys', ETH] },
          ],
        },
      ],
      { rpc: anvil.url },
    );
    user = c.driver('user', 'eth-conf');
    admin = c.driver('admin', 'eth-conf');
  });
  after(async () => {
    await c?.stop();
    await anvil?.stop();
    await new Promise((r) => rpcServer?.close(r));
  });

  it('AddProvider in process_lib\'s struct form {"RpcUrl": {"url", "auth": null}} is used, and the node keeps running (lib/src/eth.rs NodeOrRpcUrl)', async () => {
    const config = { chain_id: 31337, trusted: true, provider: { RpcUrl: { url: wsUrl, auth: null } } };
    assert.deepEqual(await admin.json(ETH, { AddProvider: config }), 'Ok');
    // Written as the runtime writes .eth_providers: struct form, `auth` left out when None.
    const saved = JSON.parse(readFileSync(join(c.node.home, '.eth_providers'), 'utf8')) as unknown[];
    assert.deepEqual(saved[0], { chain_id: 31337, trusted: true, provider: { RpcUrl: { url: wsUrl } } });
    // Requests and subscriptions for the chain go through it (this crashed the node before).
    assert.deepEqual(await user.json(ETH, { Request: { chain_id: 31337, method: 'eth_chainId', params: [] } }), { Response: '0x7a69' });
    assert.deepEqual(await user.json(ETH, { SubscribeLogs: { sub_id: 3, chain_id: 31337, kind: 'newHeads', params: {} } }), 'Ok');
    await updates();
    await mine();
    const [update] = await until(async () => {
      const u = await updates();
      return u.length > 0 ? u : undefined;
    }, 'a newHeads update');
    assert.equal(update.Ok.id, 3);
    const head = update.Ok.result as { number: string; hash: string; parentHash: string };
    assert.match(head.hash, /^0x[0-9a-f]{64}$/);
    assert.match(head.number, /^0x[0-9a-f]+$/);
    assert.deepEqual(await user.json(ETH, { UnsubscribeLogs: 3 }), 'Ok');
    const providers = (await admin.json(ETH, '"GetProviders"')) as { Providers: unknown[] };
    assert.deepEqual(providers.Providers[0], { chain_id: 31337, trusted: true, provider: { RpcUrl: { url: wsUrl } } });
  });

  it('the old string form is still read, stored in the struct form; auth goes out as the Authorization header', async () => {
    assert.deepEqual(await admin.json(ETH, { AddProvider: { chain_id: 100, trusted: false, provider: { RpcUrl: 'ws://127.0.0.1:1' } } }), 'Ok');
    assert.deepEqual(await admin.json(ETH, { AddProvider: { chain_id: 100, trusted: false, provider: { RpcUrl: { url: rpcUrl, auth: { Bearer: 'tok' } } } } }), 'Ok');
    const providers = ((await admin.json(ETH, '"GetProviders"')) as { Providers: Array<{ chain_id: number }> }).Providers.filter((p) => p.chain_id === 100);
    assert.deepEqual(providers, [
      { chain_id: 100, trusted: false, provider: { RpcUrl: { url: rpcUrl, auth: { Bearer: 'tok' } } } },
      { chain_id: 100, trusted: false, provider: { RpcUrl: { url: 'ws://127.0.0.1:1' } } },
    ]);
    assert.deepEqual(await user.json(ETH, { Request: { chain_id: 100, method: 'eth_blockNumber', params: null } }), { Response: '0x64' });
    assert.equal(rpcSeen.at(-1)?.authorization, 'Bearer tok');
  });

  it('RemoveProvider answers Ok, then ProviderNotFound; an unreachable provider is NoRpcForChain (eth/mod.rs)', async () => {
    assert.deepEqual(await admin.json(ETH, { RemoveProvider: [100, rpcUrl] }), 'Ok');
    assert.deepEqual(await admin.json(ETH, { RemoveProvider: [100, rpcUrl] }), 'ProviderNotFound');
    assert.deepEqual(await user.json(ETH, { Request: { chain_id: 100, method: 'eth_blockNumber', params: [] } }), { Err: 'NoRpcForChain' });
    assert.deepEqual(await user.json(ETH, { SubscribeLogs: { sub_id: 4, chain_id: 100, kind: 'logs', params: {} } }), { Err: 'NoRpcForChain' });
    assert.deepEqual(await user.json(ETH, { Request: { chain_id: 5, method: 'eth_blockNumber', params: [] } }), { Err: 'NoRpcForChain' });
  });

  it('only the methods of valid_method are passed on; others are InvalidMethod, before any provider is looked for (eth/mod.rs)', async () => {
    assert.deepEqual(await user.json(ETH, { Request: { chain_id: 31337, method: 'evm_mine', params: [] } }), { Err: { InvalidMethod: 'evm_mine' } });
    assert.deepEqual(await user.json(ETH, { Request: { chain_id: 5, method: 'anvil_setBalance', params: [] } }), { Err: { InvalidMethod: 'anvil_setBalance' } });
    assert.deepEqual(await user.json(ETH, { Request: { chain_id: 31337, method: 'eth_blockNumber', params: null } }), {
      Response: (await user.json(ETH, { Request: { chain_id: 31337, method: 'eth_blockNumber', params: [] } }) as { Response: string }).Response,
    });
    const rpcError = (await user.json(ETH, { Request: { chain_id: 31337, method: 'eth_getBalance', params: ['not an address', 'latest'] } })) as {
      Err: { RpcError: { code: number; message: string } };
    };
    assert.equal(typeof rpcError.Err.RpcError.code, 'number');
  });

  it('malformed input gets MalformedRequest, never a crash; config without root is PermissionDenied (eth/mod.rs IncomingReq)', async () => {
    assert.deepEqual(await user.json(ETH, 'not json'), { Err: 'MalformedRequest' });
    assert.deepEqual(await user.json(ETH, { Request: { chain_id: 31337, method: 'eth_chainId' } }), { Err: 'MalformedRequest' }, 'params is required');
    assert.deepEqual(await user.json(ETH, { Request: { chain_id: -1, method: 'eth_chainId', params: [] } }), { Err: 'MalformedRequest' });
    assert.deepEqual(await user.json(ETH, { SubscribeLogs: { sub_id: 1, chain_id: 31337, kind: 'blocks', params: {} } }), { Err: 'MalformedRequest' });
    assert.deepEqual(await user.json(ETH, { UnsubscribeLogs: 999 }), { Err: 'MalformedRequest' }, 'no such subscription');
    assert.deepEqual(await admin.json(ETH, { AddProvider: { chain_id: 1, trusted: true, provider: { RpcUrl: 5 } } }), { Err: 'MalformedRequest' });
    assert.deepEqual(await admin.json(ETH, { AddProvider: { chain_id: 1, trusted: true, provider: { RpcUrl: { url: 'ws://x', auth: { Magic: 'x' } } } } }), {
      Err: 'MalformedRequest',
    });
    assert.deepEqual(await admin.json(ETH, { RemoveProvider: [1] }), { Err: 'MalformedRequest' });
    assert.deepEqual(await user.json(ETH, '"GetProviders"'), 'PermissionDenied');
    assert.deepEqual(await user.json(ETH, 7), { Err: { id: 7, error: 'Subscription not found' } }, 'a SubKeepalive for a subscription we do not hold');
    // Still serving.
    assert.deepEqual(await user.json(ETH, { Request: { chain_id: 31337, method: 'eth_chainId', params: [] } }), { Response: '0x7a69' });
  });
});
