// Client for `eth:distro:sys` (book: ETH Provider API): raw JSON-RPC through the node's
// providers, and log subscriptions whose updates arrive later as Requests.

import { EthError } from '../errors.js';
import type { Message } from '../message.js';
import { callModule, describeVariant, expectUnit, expectVariant } from './call.js';

export type SubscriptionKind = 'newHeads' | 'logs' | 'newPendingTransactions' | 'syncing';

export type EthAction =
  | { Request: { chain_id: number; method: string; params: unknown } }
  | { SubscribeLogs: { sub_id: number; chain_id: number; kind: SubscriptionKind; params: unknown } }
  | { UnsubscribeLogs: number };

export function requestAction(chainId: number, method: string, params: unknown): EthAction {
  return { Request: { chain_id: chainId, method, params } };
}

export function subscribeAction(chainId: number, subId: number, kind: SubscriptionKind, params: unknown): EthAction {
  return { SubscribeLogs: { sub_id: subId, chain_id: chainId, kind, params } };
}

function ethError(err: unknown): EthError {
  const hint =
    err === 'NoRpcForChain'
      ? ': the node has no provider for this chain; add one (add-rpcurl-provider) or use the chain the node runs on'
      : err === 'PermissionDenied'
        ? ': the process needs the messaging capability for eth:distro:sys (request it in manifest.json)'
        : '';
  return new EthError('eth', err, `${describeVariant(err)}${hint}`);
}

type Block = bigint | number | 'latest' | 'earliest' | 'pending' | 'safe' | 'finalized';

function blockParam(b: Block): string {
  return typeof b === 'string' ? b : `0x${b.toString(16)}`;
}

/** A chain seen through the node's eth module. */
export class Provider {
  constructor(
    readonly chainId: number,
    /** Seconds to wait for each RPC. */
    readonly timeout = 60,
  ) {}

  /** Any JSON-RPC method; returns the RPC result. */
  request<T = unknown>(method: string, params: unknown[] = []): T {
    const { value } = callModule('eth', requestAction(this.chainId, method, params), ethError, { timeout: this.timeout });
    return expectVariant<T>('eth', value, 'Response');
  }

  getChainId(): number {
    return Number(BigInt(this.request<string>('eth_chainId')));
  }

  getBlockNumber(): bigint {
    return BigInt(this.request<string>('eth_blockNumber'));
  }

  getBalance(address: string, block: Block = 'latest'): bigint {
    return BigInt(this.request<string>('eth_getBalance', [address, blockParam(block)]));
  }

  /** eth_call: returns the hex result. */
  call(tx: { to: string; data?: string; from?: string }, block: Block = 'latest'): string {
    return this.request<string>('eth_call', [tx, blockParam(block)]);
  }

  getLogs(filter: Record<string, unknown>): unknown[] {
    return this.request<unknown[]>('eth_getLogs', [filter]);
  }

  /** Send a signed transaction (hex); returns its hash. */
  sendRawTransaction(signedHex: string): string {
    return this.request<string>('eth_sendRawTransaction', [signedHex]);
  }

  /** Subscribe; updates arrive as Requests from eth:distro:sys (see parseSubscriptionUpdate). */
  subscribe(subId: number, kind: SubscriptionKind, params: unknown = {}): void {
    const { value } = callModule('eth', subscribeAction(this.chainId, subId, kind, params), ethError, {
      timeout: this.timeout,
    });
    expectUnit('eth', value, 'Ok');
  }

  unsubscribe(subId: number): void {
    const { value } = callModule('eth', { UnsubscribeLogs: subId } satisfies EthAction, ethError, { timeout: this.timeout });
    expectUnit('eth', value, 'Ok');
  }
}

export type SubscriptionUpdate = { id: number; result: unknown } | { id: number; error: string };

/** A subscription update (`{"Ok": {id, result}}` or `{"Err": {id, error}}`), or undefined if it is not one. */
export function parseSubscriptionUpdate(message: Message): SubscriptionUpdate | undefined {
  if (!message.isRequest() || message.source.process.processName !== 'eth') return undefined;
  const v = message.json<{ Ok?: { id: number; result: unknown }; Err?: { id: number; error: string } }>();
  return v?.Ok ?? v?.Err;
}
