// Put kit's contracts on a chain (interop §6.3/§6.4): code with anvil_setCode at the real
// addresses, the proxy's EIP-1967 slot, then Hypermap.initialize and the TLD mints from anvil #0.

import {
  type Account,
  type Chain,
  createPublicClient,
  createTestClient,
  createWalletClient,
  encodeFunctionData,
  http,
  type PublicClient,
  pad,
  stringToHex,
  type TestClient,
  type Transport,
  type WalletClient,
  zeroAddress,
} from 'viem';
import { foundry } from 'viem/chains';
import { loadArtifacts } from './compile.js';
import {
  accountAbi,
  ANVIL_OWNER,
  EIP1967_IMPL_SLOT,
  ERC6551_REGISTRY,
  HYPERACCOUNT_IMPL,
  HYPERACCOUNT_MINTER,
  HYPERMAP,
  HYPERMAP_IMPL,
  type Hex,
  hypermapAbi,
  MULTICALL3,
  namehash,
  TLDS,
} from '../core/hypermap.js';

export class ContractDeployError extends Error {
  override name = 'ContractDeployError';
}

export interface ChainClients {
  public: PublicClient<Transport, Chain>;
  test: TestClient<'anvil', Transport, Chain>;
  wallet: WalletClient<Transport, Chain, Account>;
}

export function chainClients(url: string): ChainClients {
  const transport = http(url, { retryCount: 0 });
  return {
    public: createPublicClient({ chain: foundry, transport, pollingInterval: 50 }),
    test: createTestClient({ chain: foundry, mode: 'anvil', transport }),
    wallet: createWalletClient({ chain: foundry, transport, account: ANVIL_OWNER }),
  };
}

/** True when Hypermap answers and the TLDs are minted. */
export async function hasContracts(url: string): Promise<boolean> {
  const { public: pub } = chainClients(url);
  try {
    for (const tld of TLDS) {
      const [tba] = await pub.readContract({ address: HYPERMAP, abi: hypermapAbi, functionName: 'get', args: [namehash(tld)] });
      if (tba === zeroAddress) return false;
    }
    return true;
  } catch {
    return false;
  }
}

export async function deployContracts(url: string): Promise<void> {
  const a = loadArtifacts();
  const c = chainClients(url);
  const code: [Hex, string][] = [
    [ERC6551_REGISTRY, 'ERC6551Registry'],
    [MULTICALL3, 'Multicall3'],
    [HYPERACCOUNT_IMPL, 'HyperAccount'],
    [HYPERACCOUNT_MINTER, 'HyperAccountMinter'],
    [HYPERMAP, 'ERC1967Proxy'],
    [HYPERMAP_IMPL, 'Hypermap'],
  ];
  try {
    for (const [address, name] of code) {
      const existing = await c.public.getCode({ address });
      if (!existing || existing === '0x') await c.test.setCode({ address, bytecode: a[name]!.deployedBytecode });
    }
    await c.test.setStorageAt({ address: HYPERMAP, index: EIP1967_IMPL_SLOT, value: pad(HYPERMAP_IMPL) });
    await c.test.setStorageAt({ address: HYPERMAP, index: 0, value: pad(HYPERMAP) });

    const send = async (to: Hex, data: Hex) => {
      const hash = await c.wallet.sendTransaction({ to, data, gas: 5_000_000n });
      const r = await c.public.waitForTransactionReceipt({ hash, pollingInterval: 20 });
      if (r.status !== 'success') throw new ContractDeployError(`transaction to ${to} reverted`);
    };
    const owner = await c.public.readContract({ address: HYPERMAP, abi: hypermapAbi, functionName: 'owner' });
    if (owner === zeroAddress) {
      await send(HYPERMAP, encodeFunctionData({ abi: hypermapAbi, functionName: 'initialize', args: [ANVIL_OWNER] }));
    }
    const [zeroTba] = await c.public.readContract({ address: HYPERMAP, abi: hypermapAbi, functionName: 'get', args: [namehash('')] });
    for (const tld of TLDS) {
      const [tba] = await c.public.readContract({ address: HYPERMAP, abi: hypermapAbi, functionName: 'get', args: [namehash(tld)] });
      if (tba !== zeroAddress) continue;
      const mint = encodeFunctionData({
        abi: hypermapAbi,
        functionName: 'mint',
        args: [ANVIL_OWNER, stringToHex(tld), encodeFunctionData({ abi: accountAbi, functionName: 'initialize' }), HYPERACCOUNT_MINTER],
      });
      await send(zeroTba, encodeFunctionData({ abi: accountAbi, functionName: 'execute', args: [HYPERMAP, 0n, mint, 0] }));
    }
  } catch (e) {
    if (e instanceof ContractDeployError) throw e;
    throw new ContractDeployError(`Failed to deploy kit's contracts on ${url}: ${(e as Error).message}`);
  }
}
