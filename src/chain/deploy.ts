// Make a chain ready for fake nodes, the real kit's way (kit `src/chain/mod.rs`): a chain counts as
// set up when the `os` account exists at the address Hyperdrive and the real kit hard-code. If it
// does not, kit's own contracts are placed with anvil_setCode at the real addresses (only where
// there is no code yet), the proxy's storage is set, and anvil #0 sends `initialize(owner)` and the
// `os` mint through the zeroth account, so the registry makes both accounts where the real tools
// expect them. Then `dev` (kit's own fake nodes' TLD) is minted if missing. Nothing here calls
// `owner()`: the real Hypermap has none.

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
  OS_ACCOUNT_PROXY,
  OS_TBA,
  ZEROTH_ACCOUNT_PROXY,
  ZEROTH_TBA,
} from '../core/hypermap.js';
import { loadArtifacts } from './compile.js';

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

/** What kit found on a chain and what it did to it, for one line of output. */
export interface ChainReport {
  /** Whose contracts: kit's own (laid out now or earlier) or another tool's (the real kit's). */
  contracts: 'laid out now' | 'this kit' | 'another tool';
  os: 'present' | 'created';
  dev: 'present' | 'minted';
}

/** "set up by another tool (not this kit's contracts, e.g. the real kit); os account present; dev minted" */
export function describeChain(r: ChainReport): string {
  const by =
    r.contracts === 'laid out now'
      ? "kit's contracts laid out now at the real addresses"
      : r.contracts === 'this kit'
        ? "set up by kit (this kit's contracts)"
        : "set up by another tool (not this kit's contracts, e.g. the real kit)";
  return `${by}; os account ${r.os === 'present' ? 'present' : 'created'} at ${OS_TBA}; dev ${r.dev}`;
}

/** The real kit's test: a chain is set up when the `os` account has code. */
export async function hasContracts(url: string): Promise<boolean> {
  return hasCode(chainClients(url), OS_TBA).catch(() => false);
}

/** Set up (when the `os` account is missing) and mint `dev` (when missing); says what it found. */
export async function prepareChain(url: string): Promise<ChainReport> {
  const c = chainClients(url);
  try {
    let contracts: ChainReport['contracts'];
    let os: ChainReport['os'] = 'present';
    if (await hasCode(c, OS_TBA)) {
      contracts = (await isOurs(c)) ? 'this kit' : 'another tool';
    } else {
      await layOut(c);
      contracts = 'laid out now';
      os = 'created';
    }
    await requireCode(c);
    const dev = await mintDev(c);
    return { contracts, os, dev };
  } catch (e) {
    if (e instanceof ContractDeployError) throw e;
    throw new ContractDeployError(`Failed to set up the chain at ${url}: ${(e as Error).message}`);
  }
}

async function hasCode(c: ChainClients, address: Hex): Promise<boolean> {
  const code = await c.public.getCode({ address });
  return !!code && code !== '0x';
}

async function isOurs(c: ChainClients): Promise<boolean> {
  return (await c.public.getCode({ address: HYPERMAP_IMPL }))?.toLowerCase() === loadArtifacts().Hypermap!.deployedBytecode.toLowerCase();
}

/** The real kit's order: code, the proxy's storage, `initialize(owner)`, then `os` through the zeroth account. */
async function layOut(c: ChainClients): Promise<void> {
  const a = loadArtifacts();
  const code: [Hex, string][] = [
    [ERC6551_REGISTRY, 'ERC6551Registry'],
    [MULTICALL3, 'Multicall3'],
    [HYPERACCOUNT_IMPL, 'HyperAccount'],
    [HYPERMAP, 'ERC1967Proxy'],
    [HYPERMAP_IMPL, 'Hypermap'],
    // The real kit CREATE2s its minter and Hypermap its account proxies; ours sit at their addresses.
    [HYPERACCOUNT_MINTER, 'HyperAccountMinter'],
    [ZEROTH_ACCOUNT_PROXY, 'AccountProxy'],
    [OS_ACCOUNT_PROXY, 'AccountProxy'],
  ];
  const hadHypermap = await hasCode(c, HYPERMAP_IMPL);
  for (const [address, name] of code) {
    if (!(await hasCode(c, address))) await c.test.setCode({ address, bytecode: a[name]!.deployedBytecode });
  }
  await c.test.setStorageAt({ address: HYPERMAP, index: EIP1967_IMPL_SLOT, value: pad(HYPERMAP_IMPL) });
  await c.test.setStorageAt({ address: HYPERMAP, index: 0, value: pad(HYPERMAP) });

  // Another kit may be laying out the same chain at this moment: a step that reverts is fine
  // when what it makes exists afterwards.
  if (!(await hasCode(c, ZEROTH_TBA))) {
    const ok = await send(c, HYPERMAP, encodeFunctionData({ abi: hypermapAbi, functionName: 'initialize', args: [ANVIL_OWNER] }));
    if (!ok && !(await hasCode(c, ZEROTH_TBA))) {
      throw new ContractDeployError(
        `the chain has no \`os\` account at ${OS_TBA} and no zeroth account at ${ZEROTH_TBA}, and Hypermap's initialize reverted${hadHypermap && !(await isOurs(c)) ? ' (Hypermap there is not kit\'s and is already initialized by another tool)' : ''}: this chain was not set up for fake nodes; use a fresh one (\`kit chain -p <another port>\`)`,
      );
    }
  }
  if (!(await hasCode(c, OS_TBA))) {
    const ok = await send(c, ZEROTH_TBA, mintTldThroughZeroth('os'));
    if (!ok && !(await hasCode(c, OS_TBA))) {
      const [tba] = await c.public.readContract({ address: HYPERMAP, abi: hypermapAbi, functionName: 'get', args: [namehash('os')] });
      throw new ContractDeployError(
        tba !== zeroAddress
          ? `this chain's \`os\` entry has its account at ${tba}, not at ${OS_TBA} where Hyperdrive and the real kit expect it: it was set up by another tool with other contracts; use a fresh chain (\`kit chain -p <another port>\`)`
          : `minting \`os\` through the zeroth account ${ZEROTH_TBA} reverted (is it owned by anvil account #0, ${ANVIL_OWNER}?); the chain has no \`os\` account at ${OS_TBA}`,
      );
    }
  }
}

/** What fake nodes need besides the `os` account; a chain set up by another tool may lack them. */
async function requireCode(c: ChainClients): Promise<void> {
  const needed: [Hex, string][] = [
    [HYPERMAP, 'Hypermap'],
    [ERC6551_REGISTRY, 'the ERC-6551 registry'],
    [MULTICALL3, 'Multicall3 (fake-node notes are written through it)'],
    [HYPERACCOUNT_IMPL, 'the HyperAccount implementation (every fake node\'s account)'],
    [HYPERACCOUNT_MINTER, 'the HyperAccountMinter implementation (the TLD accounts)'],
    [ZEROTH_TBA, 'the zeroth account'],
  ];
  const missing: string[] = [];
  for (const [address, what] of needed) if (!(await hasCode(c, address))) missing.push(`${what} at ${address}`);
  if (missing.length > 0) {
    throw new ContractDeployError(
      `the chain has the \`os\` account at ${OS_TBA} but no code for ${missing.join(', ')}: it was set up by a tool that lays out less than kit needs; use a fresh chain (\`kit chain -p <another port>\`)`,
    );
  }
}

async function mintDev(c: ChainClients): Promise<ChainReport['dev']> {
  const tba = async () => (await c.public.readContract({ address: HYPERMAP, abi: hypermapAbi, functionName: 'get', args: [namehash('dev')] }))[0];
  if ((await tba()) !== zeroAddress) return 'present';
  const ok = await send(c, ZEROTH_TBA, mintTldThroughZeroth('dev'));
  if (!ok && (await tba()) === zeroAddress) {
    throw new ContractDeployError(
      `could not mint \`dev\` (kit's fake-node names) through the zeroth account ${ZEROTH_TBA}: the transaction reverted (kit mints as anvil account #0, ${ANVIL_OWNER}, which must own the zeroth entry)`,
    );
  }
  return 'minted';
}

/** `execute(Hypermap, 0, mint(owner, tld, initialize(), HyperAccountMinter), CALL)`: the real kit's mint-os, for any TLD. */
function mintTldThroughZeroth(tld: string): Hex {
  const mint = encodeFunctionData({
    abi: hypermapAbi,
    functionName: 'mint',
    args: [ANVIL_OWNER, stringToHex(tld), encodeFunctionData({ abi: accountAbi, functionName: 'initialize' }), HYPERACCOUNT_MINTER],
  });
  return encodeFunctionData({ abi: accountAbi, functionName: 'execute', args: [HYPERMAP, 0n, mint, 0] });
}

/** A transaction from anvil #0 (unlocked; the real kit impersonates it); true when it succeeded. */
async function send(c: ChainClients, to: Hex, data: Hex): Promise<boolean> {
  const hash = await c.wallet.sendTransaction({ to, data, gas: 5_000_000n });
  const r = await c.public.waitForTransactionReceipt({ hash, pollingInterval: 20 });
  return r.status === 'success';
}
