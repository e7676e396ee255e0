// How a native system process (hns-indexer, the app store's chain part) talks to eth:distro:sys:
// one Request, its JSON answer, and an `Err` answer turned into an exception; and following
// Hypermap's logs, which both of them do.

import { type Hex, keccak256, stringToBytes } from 'viem';
import { HYPERMAP } from '../../../core/hypermap.js';
import type { KernelApi } from '../../kernel/api.js';
import { fromUtf8, jsonBytes, type ProcessId, systemProcess } from '../../../core/types.js';

const ETH = systemProcess('eth');

export async function askEth(kernel: KernelApi, from: ProcessId, action: unknown): Promise<unknown> {
  const reply = await kernel.request(from, { node: kernel.our, process: ETH }, jsonBytes(action), { timeoutSecs: 60 });
  const body = JSON.parse(fromUtf8(reply.response.body)) as unknown;
  if (body && typeof body === 'object' && 'Err' in body) throw new Error(`eth: ${JSON.stringify((body as { Err: unknown }).Err)}`);
  return body;
}

/** The fake chain's id. */
export const FAKE_CHAIN_ID = 31337;
export const MINT_TOPIC = keccak256(stringToBytes('Mint(bytes32,bytes32,bytes,bytes)'));
export const NOTE_TOPIC = keccak256(stringToBytes('Note(bytes32,bytes32,bytes,bytes,bytes)'));

/** A log as eth:distro:sys hands it over (JSON-RPC shape). */
export interface RpcLog {
  address: Hex;
  topics: [Hex, ...Hex[]];
  data: Hex;
  blockNumber: Hex;
  transactionHash: Hex;
  logIndex: Hex;
}

/**
 * Subscribes `subId` to Hypermap's Mint and Note logs, then returns those already on chain.
 * Subscribing first means nothing falls between the two; a log may arrive both ways.
 */
export async function followHypermapLogs(kernel: KernelApi, from: ProcessId, subId: number): Promise<RpcLog[]> {
  const filter = { address: HYPERMAP, topics: [[MINT_TOPIC, NOTE_TOPIC]] };
  await askEth(kernel, from, { SubscribeLogs: { sub_id: subId, chain_id: FAKE_CHAIN_ID, kind: 'logs', params: filter } });
  const r = (await askEth(kernel, from, {
    Request: { chain_id: FAKE_CHAIN_ID, method: 'eth_getLogs', params: [{ ...filter, fromBlock: '0x0', toBlock: 'latest' }] },
  })) as { Response: RpcLog[] };
  return r.Response;
}
