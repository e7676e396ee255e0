// kit's chain and the real tools. Hyperdrive's fake-node registration (hd `src/fakenet.rs`
// `mint_local`, sent here byte for byte as it builds it) mints on kit's chain and a node's
// hns-indexer sees the name and its notes; a chain laid out the real kit's way (kit
// `src/chain/mod.rs`: its addresses and its calls, with kit's contracts, and no `dev`) boots kit's
// nodes; a chain that lacks what fake nodes need is refused with what is missing.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { encodeFunctionData, type Hex, pad, stringToHex, zeroAddress } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { spawnAnvil } from '../../src/chain/anvil.js';
import {
  ANVIL_OWNER,
  ANVIL_OWNER_KEY,
  accountAbi,
  chainClients,
  describeFoundChain,
  EIP1967_IMPL_SLOT,
  ERC6551_REGISTRY,
  HYPERACCOUNT_IMPL,
  HYPERACCOUNT_MINTER,
  HYPERMAP,
  HYPERMAP_IMPL,
  hypermapAbi,
  loadArtifacts,
  MULTICALL3,
  multicallAbi,
  namehash,
  OS_ACCOUNT_PROXY,
  OS_TBA,
  rpcCall,
  startChain,
  ZEROTH_ACCOUNT_PROXY,
  ZEROTH_TBA,
} from '../../src/chain/index.js';
import type { KernelApi } from '../../src/runtime/kernel/api.js';
import type { Kernel } from '../../src/runtime/kernel/kernel.js';
import { HNS_INDEXER_PROCESS } from '../../src/runtime/packages/hns-indexer/index.js';
import { bootNode, type RunningNode } from '../../src/runtime/node.js';
import { fromUtf8, jsonBytes, type KernelMessage, messagingCap, type ProcessId } from '../../src/core/types.js';
import { freePort } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'kit-real-tools-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

async function get(url: string, name: string) {
  const [tba, owner, data] = await chainClients(url).public.readContract({ address: HYPERMAP, abi: hypermapAbi, functionName: 'get', args: [namehash(name)] });
  return { tba, owner, data };
}

/**
 * fakenet.rs `mint_local` for a name that is not registered yet: `mint(owner, label, execute(
 * Multicall3, 0, aggregate([~ip, ~ws-port, ~net-key notes]), DELEGATECALL), HyperAccount)` signed
 * by anvil #0 as an EIP-1559 transaction to the hard-coded `os` account (gas 1.2 M, 200/300 gwei),
 * then the 10-wei transfer it sends so that anvil mines a block.
 */
async function hyperdriveMintLocal(url: string, label: string, wsPort: number, pubkey: Hex): Promise<'success' | 'reverted'> {
  const c = chainClients(url);
  const note = (l: string, data: Hex) => ({ target: HYPERMAP, callData: encodeFunctionData({ abi: hypermapAbi, functionName: 'note', args: [stringToHex(l), data] }) });
  const calls = [note('~ip', '0x7f000001'), note('~ws-port', pad(`0x${wsPort.toString(16)}`, { size: 2 })), note('~net-key', pubkey)];
  const init = encodeFunctionData({
    abi: accountAbi,
    functionName: 'execute',
    args: [MULTICALL3, 0n, encodeFunctionData({ abi: multicallAbi, functionName: 'aggregate', args: [calls] }), 1],
  });
  const data = encodeFunctionData({ abi: accountAbi, functionName: 'mint', args: [ANVIL_OWNER, stringToHex(label), init, HYPERACCOUNT_IMPL] });
  assert.equal(data.slice(0, 10), '0x094cefed');
  const signer = privateKeyToAccount(ANVIL_OWNER_KEY);
  const fees = { chainId: 31337, maxPriorityFeePerGas: 200_000_000_000n, maxFeePerGas: 300_000_000_000n, type: 'eip1559' } as const;
  let nonce = await c.public.getTransactionCount({ address: signer.address });
  const tx = await signer.signTransaction({ ...fees, to: OS_TBA, data, nonce, gas: 1_200_000n });
  const receipt = await c.public.waitForTransactionReceipt({ hash: await c.public.sendRawTransaction({ serializedTransaction: tx }) });
  nonce = await c.public.getTransactionCount({ address: signer.address });
  const nudge = await signer.signTransaction({ ...fees, to: zeroAddress, value: 10n, nonce, gas: 21_000n });
  await c.public.waitForTransactionReceipt({ hash: await c.public.sendRawTransaction({ serializedTransaction: nudge }) });
  return receipt.status;
}

/**
 * kit `src/chain/mod.rs` start_chain on a bare anvil, with kit's contracts: anvil_setCode where there is
 * no code yet, impersonate anvil #0, the proxy's two storage slots, then its transactions by raw
 * JSON-RPC with explicit nonces (`initialize(owner)`, then the `os` mint through the zeroth account).
 * The real kit CREATE2s its HyperAccountMinter, and the real Hypermap its account proxies, from
 * their init code; with kit's contracts those are placed at the same addresses. No `dev`.
 */
async function layOutLikeTheRealKit(url: string, opts: { accountProxies?: boolean } = {}): Promise<void> {
  const a = loadArtifacts();
  const predeploys: [Hex, string][] = [
    [ERC6551_REGISTRY, 'ERC6551Registry'],
    [MULTICALL3, 'Multicall3'],
    [HYPERACCOUNT_IMPL, 'HyperAccount'],
    [HYPERMAP, 'ERC1967Proxy'],
    [HYPERMAP_IMPL, 'Hypermap'],
    [HYPERACCOUNT_MINTER, 'HyperAccountMinter'],
  ];
  if (opts.accountProxies !== false) predeploys.push([ZEROTH_ACCOUNT_PROXY, 'AccountProxy'], [OS_ACCOUNT_PROXY, 'AccountProxy']);
  for (const [address, name] of predeploys) {
    if ((await rpcCall<string>(url, 'eth_getCode', [address, 'latest'])) === '0x') await rpcCall(url, 'anvil_setCode', [address, a[name]!.deployedBytecode]);
  }
  await rpcCall(url, 'anvil_impersonateAccount', [ANVIL_OWNER]);
  await rpcCall(url, 'anvil_setStorageAt', [HYPERMAP, EIP1967_IMPL_SLOT, pad(HYPERMAP_IMPL)]);
  await rpcCall(url, 'anvil_setStorageAt', [HYPERMAP, pad('0x0'), pad(HYPERMAP)]);
  let nonce = Number(BigInt(await rpcCall<string>(url, 'eth_getTransactionCount', [ANVIL_OWNER, 'latest'])));
  const mint = encodeFunctionData({
    abi: hypermapAbi,
    functionName: 'mint',
    args: [ANVIL_OWNER, stringToHex('os'), encodeFunctionData({ abi: accountAbi, functionName: 'initialize' }), HYPERACCOUNT_MINTER],
  });
  const txs: [Hex, Hex][] = [
    [HYPERMAP, '0xc4d66de8000000000000000000000000f39fd6e51aad88f6f4ce6ab8827279cfffb92266'],
    [ZEROTH_TBA, encodeFunctionData({ abi: accountAbi, functionName: 'execute', args: [HYPERMAP, 0n, mint, 0] })],
  ];
  for (const [to, data] of txs) {
    const hash = await rpcCall<Hex>(url, 'eth_sendTransaction', [{ from: ANVIL_OWNER, to, data, nonce: `0x${nonce.toString(16)}`, gas: '0x500000' }]);
    nonce++;
    // Each one mined and successful before the next (and before the test reads the chain).
    let receipt: { status: string } | null = null;
    for (let i = 0; i < 100 && !receipt; i++) {
      receipt = await rpcCall<{ status: string } | null>(url, 'eth_getTransactionReceipt', [hash]);
      if (!receipt) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(receipt?.status, '0x1', `the real kit's transaction to ${to} was mined and succeeded`);
  }
  await rpcCall(url, 'anvil_stopImpersonatingAccount', [ANVIL_OWNER]);
}

/** Ask `node`'s hns-indexer, as a process holding a messaging capability to it. */
async function askIndexer(node: RunningNode, query: unknown): Promise<unknown> {
  const id: ProcessId = { processName: `asker-${Math.random().toString(36).slice(2, 8)}`, packageName: 'probe', publisherNode: 'sys' };
  let kernel!: KernelApi;
  await (node.kernel as Kernel).addNative(
    {
      id,
      // public: hns-indexer's answer reaches it (every Response is capability-checked)
      isPublic: true,
      start: (k) => {
        kernel = k;
      },
      handle: (_km: KernelMessage) => {},
    },
    [messagingCap({ node: node.name, process: HNS_INDEXER_PROCESS })],
  );
  const r = await kernel.request(id, { node: node.name, process: HNS_INDEXER_PROCESS }, jsonBytes(query));
  return JSON.parse(fromUtf8(r.response.body));
}

describe("Hyperdrive's fake-node registration on kit's chain", () => {
  test("mint_local's transaction mints the name under os, and a kit node's hns-indexer sees it with its notes", async () => {
    const node = await bootNode({ home: join(tmp, 'watcher'), port: 0, name: 'watcher.dev', fakechainPort: await freePort() });
    try {
      const url = node.fakechain!.url;
      const key = `0x${'5a'.repeat(32)}` as const;
      assert.equal(await hyperdriveMintLocal(url, 'hdnode', 9123, key), 'success');
      const entry = await get(url, 'hdnode.os');
      assert.notEqual(entry.tba, zeroAddress, 'hdnode.os is minted');
      assert.equal(entry.owner, ANVIL_OWNER);
      assert.equal((await get(url, '~net-key.hdnode.os')).data, key);

      const head = Number(await chainClients(url).public.getBlockNumber());
      assert.deepEqual(await askIndexer(node, { NodeInfo: { name: 'hdnode.os', block: head } }), {
        NodeInfo: { name: 'hdnode.os', public_key: '5a'.repeat(32), ips: ['127.0.0.1'], ports: [['ws', 9123]], routers: [] },
      });
    } finally {
      await node.stop();
    }
  });
});

describe("a chain laid out the real kit's way", () => {
  test('kit attaches without laying anything out again, mints dev, says what it found, and its nodes register', async () => {
    const anvil = await spawnAnvil({ port: await freePort() });
    try {
      await layOutLikeTheRealKit(anvil.url);
      assert.equal((await get(anvil.url, 'os')).tba, OS_TBA, "the real kit's calls put os where Hyperdrive expects it");
      assert.equal((await get(anvil.url, 'dev')).tba, zeroAddress, 'the real kit mints only os');

      const chain = await startChain({ port: anvil.port });
      assert.equal(chain.owned, false);
      assert.deepEqual(chain.report, { contracts: 'this kit', os: 'present', dev: 'minted' });
      assert.match(describeFoundChain(chain), new RegExp(`^chain on ${anvil.port}: not started by this kit .*; os account present at ${OS_TBA}; dev minted$`));
      await chain.stop();

      const node = await bootNode({ home: join(tmp, 'attached'), port: 0, name: 'attached.dev', fakechainPort: anvil.port });
      try {
        assert.equal(node.fakechain?.owned, false);
        assert.equal((await get(anvil.url, 'attached.dev')).tba, node.fakechain?.tba);
        assert.equal(await hyperdriveMintLocal(anvil.url, 'hdnode2', 9124, `0x${'6b'.repeat(32)}`), 'success');
        assert.notEqual((await get(anvil.url, 'hdnode2.os')).tba, zeroAddress);
      } finally {
        await node.stop();
      }
      assert.notEqual(await rpcCall(anvil.url, 'eth_blockNumber'), undefined, 'kit leaves a chain it did not start running');
    } finally {
      await anvil.stop();
    }
  });
});

describe('a chain that lacks what fake nodes need', () => {
  test('the os account without Multicall3: the error names the missing contract and its address', async () => {
    const anvil = await spawnAnvil({ port: await freePort() });
    try {
      await layOutLikeTheRealKit(anvil.url);
      await rpcCall(anvil.url, 'anvil_setCode', [MULTICALL3, '0x']);
      await assert.rejects(
        () => bootNode({ home: join(tmp, 'nomulti'), port: 0, name: 'nomulti.dev', fakechainPort: anvil.port }),
        (e: Error) => {
          assert.equal(e.name, 'FakeChainUnavailableError');
          assert.match(e.message, new RegExp(`the chain on port ${anvil.port} cannot serve fake nodes: .*os\` account at ${OS_TBA} but no code for Multicall3 .*at ${MULTICALL3}`));
          return true;
        },
      );
    } finally {
      await anvil.stop();
    }
  });

  test('Hypermap already initialized with its zeroth account elsewhere: the error says the os account is missing and why', async () => {
    const anvil = await spawnAnvil({ port: await freePort() });
    try {
      // Without the account proxies at the real addresses, the zeroth and os accounts land elsewhere.
      await layOutLikeTheRealKit(anvil.url, { accountProxies: false });
      const zeroth = await get(anvil.url, '');
      assert.notEqual(zeroth.tba, zeroAddress);
      assert.notEqual(zeroth.tba, ZEROTH_TBA);
      assert.equal(await rpcCall(anvil.url, 'eth_getCode', [OS_TBA, 'latest']), '0x');
      await assert.rejects(
        () => startChain({ port: anvil.port }),
        (e: Error) => {
          assert.equal(e.name, 'ContractDeployError');
          assert.match(e.message, new RegExp(`no \`os\` account at ${OS_TBA} and no zeroth account at ${ZEROTH_TBA}, and Hypermap's initialize reverted`));
          assert.match(e.message, /use a fresh one \(`kit chain -p <another port>`\)/);
          return true;
        },
      );
    } finally {
      await anvil.stop();
    }
  });
});
