// The Hypermap transactions of the App Store protocol (interop §8.3, §8.4), built with viem:
// two notes on the app entry `<name>.<publisher>` — `~metadata-hash` first, then `~metadata-uri` —
// written by the entry's own TBA DELEGATECALLing Multicall3. A new app is minted under the
// publisher's TBA with those notes as its initialization; an existing one (ours) gets the notes
// through its TBA; unpublishing writes both notes empty.

import { encodeFunctionData, type Hex, stringToHex, zeroAddress } from 'viem';
import { accountAbi, HYPERACCOUNT_IMPL, HYPERMAP, hypermapAbi, MULTICALL3, multicallAbi } from '../core/hypermap.js';

export interface Network {
  chainId: number;
  hypermap: Hex;
  /** Account implementation for new app TBAs. */
  accountImpl: Hex;
  multicall: Hex;
  /** Where a tx hash can be looked at, if anywhere. */
  explorer?: string;
}

/** The fake chain `kit chain` / `kit boot-fake-node` start (our contracts at the real addresses). */
export const FAKE_NETWORK: Network = { chainId: 31337, hypermap: HYPERMAP, accountImpl: HYPERACCOUNT_IMPL, multicall: MULTICALL3 };

/** Base mainnet, where the real Hypermap lives. */
export const REAL_NETWORK: Network = {
  chainId: 8453,
  hypermap: HYPERMAP,
  accountImpl: '0x0000000000691b70A051CFAF82F9622E150369f3',
  multicall: MULTICALL3,
  explorer: 'https://basescan.org/tx/',
};

/** What `get(namehash(x))` returned. */
export interface Entry {
  tba: Hex;
  owner: Hex;
}

export interface PlanInput {
  network: Network;
  wallet: Hex;
  /** App label (package name) and publisher node name. */
  name: string;
  publisher: string;
  /** The app entry `<name>.<publisher>`, and the publisher's entry. */
  app: Entry;
  publisherEntry: Entry;
  unpublish: boolean;
  metadataUri: string;
  metadataHash: Hex;
}

export type Action = 'mint' | 'update' | 'unpublish';

export interface PlannedTx {
  action: Action;
  to: Hex;
  data: Hex;
  /** One line a user reads: what this transaction does. */
  description: string;
}

export class PublishPlanError extends Error {
  override name = 'PublishPlanError';
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** The notes as one DELEGATECALL to Multicall3, run by the app's TBA (hash note first). */
export function notesInit(network: Network, metadataHash: string, metadataUri: string): Hex {
  const note = (label: string, data: string) => ({
    target: network.hypermap,
    callData: encodeFunctionData({ abi: hypermapAbi, functionName: 'note', args: [stringToHex(label), data === '' ? '0x' : stringToHex(data)] }),
  });
  const aggregate = encodeFunctionData({
    abi: multicallAbi,
    functionName: 'aggregate',
    args: [[note('~metadata-hash', metadataHash), note('~metadata-uri', metadataUri)]],
  });
  return encodeFunctionData({ abi: accountAbi, functionName: 'execute', args: [network.multicall, 0n, aggregate, 1] });
}

/** Decide the one transaction to send, or say why none can be (someone else's name, no publisher…). */
export function planPublish(i: PlanInput): PlannedTx {
  const full = `${i.name}.${i.publisher}`;
  const appExists = !same(i.app.tba, zeroAddress);
  if (i.unpublish) {
    if (!appExists || !same(i.app.owner, i.wallet)) {
      throw new PublishPlanError(
        `Can't find ${full} to unpublish.`,
        appExists ? `it is owned by ${i.app.owner}, not by ${i.wallet}` : 'it was never published (or under another name)',
      );
    }
    return {
      action: 'unpublish',
      to: i.app.tba,
      data: notesInit(i.network, '', ''),
      description: `unpublish ${full}: empty ~metadata-hash and ~metadata-uri notes through its TBA ${i.app.tba}`,
    };
  }
  const init = notesInit(i.network, i.metadataHash, i.metadataUri);
  if (appExists) {
    if (!same(i.app.owner, i.wallet)) {
      throw new PublishPlanError(
        `${full} is already published by someone else (owner ${i.app.owner}); your key is ${i.wallet}`,
        'publish under another package name, or use the key that published it',
      );
    }
    return {
      action: 'update',
      to: i.app.tba,
      data: init,
      description: `update ${full}: ~metadata-hash ${i.metadataHash} and ~metadata-uri ${i.metadataUri} through its TBA ${i.app.tba}`,
    };
  }
  if (same(i.publisherEntry.tba, zeroAddress)) {
    throw new PublishPlanError(
      `the publisher ${i.publisher} is not on Hypermap`,
      'boot the publisher node on this chain first (kit boot-fake-node -f <name>), or set properties.publisher to your node',
    );
  }
  if (!same(i.publisherEntry.owner, i.wallet)) {
    throw new PublishPlanError(
      `the publisher ${i.publisher} is owned by ${i.publisherEntry.owner}, not by your key ${i.wallet}: only its owner may mint ${full}`,
      'use the keystore of the key that owns your node name',
    );
  }
  const mint = encodeFunctionData({
    abi: hypermapAbi,
    functionName: 'mint',
    args: [i.wallet, stringToHex(i.name), init, i.network.accountImpl],
  });
  return {
    action: 'mint',
    to: i.publisherEntry.tba,
    data: encodeFunctionData({ abi: accountAbi, functionName: 'execute', args: [i.network.hypermap, 0n, mint, 0] }),
    description: `mint ${full} under ${i.publisher} (TBA ${i.publisherEntry.tba}) with ~metadata-hash ${i.metadataHash} and ~metadata-uri ${i.metadataUri}`,
  };
}
