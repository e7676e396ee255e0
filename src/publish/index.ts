// `kit publish` (interop §8): check the package against its published metadata, decide the one
// Hypermap transaction that publishes, updates or unpublishes it, sign it with the keystore's key
// and send it (or, with --mock, print it and send nothing). Nothing is sent unless every check
// passed. Signing is local; the chain is reached over --rpc (ws(s):// or http(s)://).

import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createPublicClient, type Hex, http, type PublicClient, type Transport, webSocket } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { describeFsError, KitError } from '../cli/errors.js';
import { hypermapAbi, namehash } from '../core/hypermap.js';
import { decryptKeystore, parseKeystore } from './keystore.js';
import { checkPackage } from './metadata.js';
import { type HardwareSigner, type LedgerTransport, ledgerPackagesMissing, ledgerSigner } from './ledger.js';
import { keystorePassword } from './password.js';
import { type Entry, FAKE_NETWORK, type Network, type PlannedTx, PublishPlanError, planPublish, REAL_NETWORK } from './transactions.js';

export { decryptKeystore, encryptKeystore, KeystoreError, WrongPasswordError } from './keystore.js';
export { checkPackage, fetchMetadata, metadataHash, PublishCheckError } from './metadata.js';
export { FAKE_NETWORK, notesInit, planPublish, REAL_NETWORK } from './transactions.js';

export const DEFAULT_FAKE_RPC = 'ws://localhost:8545';
const RECEIPT_TIMEOUT_MS = 120_000;

export class PublishError extends KitError {
  override name = 'PublishError';
}

export interface PublishOptions {
  dir: string;
  metadataUri: string;
  /** ws(s):// or http(s)://; default ws://localhost:8545 (the fake chain); required with `real`. */
  rpc?: string;
  real?: boolean;
  unpublish?: boolean;
  keystorePath?: string;
  ledger?: boolean;
  /** The Ledger to sign with instead of one found over USB (tests: a recorded or simulated transport). */
  ledgerTransport?: LedgerTransport;
  trezor?: boolean;
  /** Publish through a Safe at this address: print what to propose, sign nothing. */
  safe?: string;
  gasLimit?: number;
  priorityFee?: number;
  feePerGas?: number;
  mock?: boolean;
  /** Asked only when a keystore is used; default KIT_KEYSTORE_PASSWORD or a TTY prompt. */
  password?: () => Promise<string>;
  log?: { info(msg: string): void };
}

export interface PublishResult {
  action: PlannedTx['action'];
  name: string;
  publisher: string;
  to: Hex;
  data: Hex;
  from: Hex;
  nonce: number;
  /** The signed transaction (absent with --safe). */
  rawTransaction?: Hex;
  /** Set when the transaction was sent. */
  txHash?: Hex;
  blockNumber?: bigint;
}

export async function publish(opts: PublishOptions): Promise<PublishResult> {
  const log = opts.log ?? { info: () => {} };
  const signers = [opts.keystorePath !== undefined, !!opts.ledger, !!opts.trezor, opts.safe !== undefined].filter(Boolean).length;
  if (signers !== 1) {
    throw new PublishError('Must supply one and only one of `--keystore-path`, `--ledger`, `--trezor`, or `--safe`', {
      hint: 'e.g. --keystore-path ~/.foundry/keystores/my-wallet',
    });
  }
  if (opts.trezor) {
    throw new PublishError('Trezor hardware wallets are not supported in this build of kit', {
      hint: 'use --ledger, export the key into a keystore (e.g. `cast wallet import -i my-wallet`) and pass --keystore-path, or use --safe',
    });
  }
  if (opts.ledger) {
    const missing = ledgerPackagesMissing(!opts.ledgerTransport);
    if (missing) throw missing;
  }
  if (opts.real && !opts.rpc) {
    throw new PublishError('--real needs --rpc: the WebSocket RPC endpoint of the real network (Base)', {
      hint: 'e.g. --rpc wss://base-mainnet.g.alchemy.com/v2/<KEY>',
    });
  }
  const network: Network = opts.real ? REAL_NETWORK : FAKE_NETWORK;
  const rpc = opts.rpc ?? DEFAULT_FAKE_RPC;
  const gas = BigInt(opts.gasLimit ?? 1_000_000);

  // 1. The package and its published metadata.
  const checked = await checkPackage(opts.dir, opts.metadataUri, { unpublish: opts.unpublish });
  const verb = opts.unpublish ? 'unpublish' : 'publish';

  // 2. Who signs.
  let account: Pick<HardwareSigner, 'address' | 'signTransaction'> | undefined;
  let device: HardwareSigner | undefined;
  let wallet: Hex;
  if (opts.safe !== undefined) {
    if (!/^0x[0-9a-fA-F]{40}$/.test(opts.safe)) throw new PublishError(`--safe ${opts.safe} is not an address (0x + 40 hex digits)`);
    wallet = opts.safe as Hex;
  } else if (opts.ledger) {
    device = await ledgerSigner(opts.ledgerTransport);
    account = device;
    wallet = device.address;
    log.info(`signing with the Ledger's account ${wallet} (m/44'/60'/0'/0/0)`);
  } else {
    const path = resolve(opts.keystorePath as string);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      throw new PublishError(`cannot read the keystore ${path}: ${describeFsError(e)}`, { cause: e });
    }
    const ks = parseKeystore(text, path);
    const password = await (opts.password ?? (() => keystorePassword()))();
    const key = await decryptKeystore(ks, password);
    if (key.length !== 32) throw new PublishError(`the keystore ${path} holds a ${key.length}-byte key, not a 32-byte private key`);
    account = privateKeyToAccount(`0x${Buffer.from(key).toString('hex')}`);
    wallet = account.address;
  }

  // 3. The chain: the right one, with Hypermap on it; then the entries we build on.
  const client = connect(rpc);
  try {
    let chainId: number;
    try {
      chainId = await client.getChainId();
    } catch (e) {
      throw new PublishError(`cannot reach the chain at ${rpc}: ${(e as Error).message.split('\n')[0]}`, {
        cause: e,
        hint: opts.real ? 'check --rpc' : 'start the fake chain (`kit chain`, or `kit boot-fake-node` starts one) or pass --rpc',
      });
    }
    if (chainId !== network.chainId) {
      throw new PublishError(`the chain at ${rpc} has chain id ${chainId}, not ${network.chainId} (${opts.real ? 'Base' : 'the fake chain'})`, {
        hint: opts.real ? 'point --rpc at Base mainnet' : 'without --real kit publishes to a fake chain (id 31337); add --real for the real network',
      });
    }
    const code = await client.getCode({ address: network.hypermap });
    if (!code || code === '0x') {
      throw new PublishError(`the chain at ${rpc} has no Hypermap contract at ${network.hypermap}`, {
        hint: opts.real ? 'check --rpc' : 'start the chain with `kit chain` (it deploys Hypermap) instead of a bare anvil',
      });
    }
    const get = async (name: string): Promise<Entry> => {
      const [tba, owner] = await client.readContract({ address: network.hypermap, abi: hypermapAbi, functionName: 'get', args: [namehash(name)] });
      return { tba, owner };
    };
    let plan: PlannedTx;
    try {
      plan = planPublish({
        network,
        wallet,
        name: checked.name,
        publisher: checked.publisher,
        app: await get(`${checked.name}.${checked.publisher}`),
        publisherEntry: await get(checked.publisher),
        unpublish: !!opts.unpublish,
        metadataUri: opts.metadataUri,
        metadataHash: checked.metadataHash,
      });
    } catch (e) {
      if (e instanceof PublishPlanError) throw new PublishError(e.message, { hint: e.hint });
      throw e;
    }
    const nonce = await client.getTransactionCount({ address: wallet, blockTag: 'pending' });
    const result: PublishResult = { action: plan.action, name: checked.name, publisher: checked.publisher, to: plan.to, data: plan.data, from: wallet, nonce };

    if (!account) {
      log.info(`${verb} ${checked.name} through Safe ${wallet}: ${plan.description}`);
      log.info('In the Safe app: New transaction -> Transaction Builder; enable custom data, then enter:');
      log.info(`  to:    ${plan.to}`);
      log.info('  value: 0');
      log.info(`  data:  ${plan.data}`);
      log.info('then create, sign and execute the batch.');
      return result;
    }

    // 4. Fees, sign, and send (or not).
    let maxPriorityFeePerGas = opts.priorityFee === undefined ? undefined : BigInt(opts.priorityFee);
    let maxFeePerGas = opts.feePerGas === undefined ? undefined : BigInt(opts.feePerGas);
    if (maxPriorityFeePerGas === undefined || maxFeePerGas === undefined) {
      const est = await client.estimateFeesPerGas();
      maxPriorityFeePerGas ??= est.maxPriorityFeePerGas;
      maxFeePerGas ??= est.maxFeePerGas > maxPriorityFeePerGas ? est.maxFeePerGas : est.maxFeePerGas + maxPriorityFeePerGas;
    }
    if (maxPriorityFeePerGas > maxFeePerGas) {
      throw new PublishError(`--priority-fee (${maxPriorityFeePerGas} wei) is above --fee-per-gas (${maxFeePerGas} wei)`, {
        hint: 'the max fee per gas must cover the priority fee',
      });
    }
    const raw = await account.signTransaction({
      type: 'eip1559',
      chainId: network.chainId,
      nonce,
      to: plan.to,
      data: plan.data,
      value: 0n,
      gas,
      maxFeePerGas,
      maxPriorityFeePerGas,
    });
    result.rawTransaction = raw;
    if (opts.mock) {
      log.info(`${plan.description}`);
      log.info(`  from ${wallet} to ${plan.to}, nonce ${nonce}, gas ${gas}, max fee ${maxFeePerGas} wei, priority fee ${maxPriorityFeePerGas} wei`);
      log.info(`  data ${plan.data}`);
      log.info(`${verb} ${checked.name} tx mock successful (nothing sent)`);
      return result;
    }
    const hash = await client.sendRawTransaction({ serializedTransaction: raw });
    result.txHash = hash;
    log.info(`${verb} ${checked.name} tx sent: ${network.explorer ? `${network.explorer}${hash}` : hash}`);
    log.info(`  ${plan.description}`);
    const receipt = await client.waitForTransactionReceipt({ hash, timeout: RECEIPT_TIMEOUT_MS, pollingInterval: 100 });
    if (receipt.status !== 'success') {
      throw new PublishError(`transaction ${hash} reverted (block ${receipt.blockNumber}): ${plan.action} of ${checked.name}.${checked.publisher} did not happen`, {
        hint: 'raise --gas-limit if it ran out of gas; otherwise check that your key owns the publisher entry',
      });
    }
    result.blockNumber = receipt.blockNumber;
    log.info(`  confirmed in block ${receipt.blockNumber}`);
    return result;
  } finally {
    await close(client);
    await device?.close().catch(() => {});
  }
}

function connect(rpc: string): PublicClient<Transport> {
  let url: URL;
  try {
    url = new URL(rpc);
  } catch {
    throw new PublishError(`--rpc ${rpc} is not a URL`, { hint: 'e.g. ws://localhost:8545 or wss://…' });
  }
  const transport =
    url.protocol === 'ws:' || url.protocol === 'wss:'
      ? webSocket(rpc, { retryCount: 0, timeout: 30_000 })
      : url.protocol === 'http:' || url.protocol === 'https:'
        ? http(rpc, { retryCount: 0, timeout: 30_000 })
        : undefined;
  if (!transport) throw new PublishError(`--rpc ${rpc}: use a ws://, wss://, http:// or https:// endpoint`);
  return createPublicClient({ transport }) as PublicClient<Transport>;
}

async function close(client: PublicClient<Transport>): Promise<void> {
  const t = client.transport as { getRpcClient?: () => Promise<{ close(): void }> };
  if (t.getRpcClient) await t.getRpcClient().then((c) => c.close()).catch(() => {});
}
