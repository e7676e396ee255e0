// Client for `eth:distro:sys` (book: ETH Provider API; shapes of Hyperdrive's lib/src/eth.rs): raw
// JSON-RPC through the node's providers (only the methods eth passes on; others are InvalidMethod),
// log subscriptions whose updates arrive later as Requests, and the provider settings
// (EthConfigAction, for a process holding eth's root capability).

import { ETH_VALID_METHODS } from '../../core/wire-enums.js';
import { EthError } from '../errors.js';
import type { Message } from '../message.js';
import { callModule, describeVariant, expectUnit, expectVariant } from './call.js';

export type SubscriptionKind = 'newHeads' | 'logs' | 'newPendingTransactions' | 'syncing';

export type EthAction =
  | { Request: { chain_id: number; method: string; params: unknown } }
  | { SubscribeLogs: { sub_id: number; chain_id: number; kind: SubscriptionKind; params: unknown } }
  | { UnsubscribeLogs: number };

/** `EthError` as the module sends it (`error` of an EthError thrown here). */
export type EthErrorValue =
  | { RpcError: unknown }
  | 'MalformedRequest'
  | 'NoRpcForChain'
  | { SubscriptionClosed: number }
  | { InvalidMethod: string }
  | 'InvalidParams'
  | 'PermissionDenied'
  | 'RpcTimeout'
  | 'RpcMalformedResponse'
  | 'RateLimited';

/** The JSON-RPC methods eth:distro:sys passes on (Hyperdrive's valid_method). */
export const VALID_METHODS = ETH_VALID_METHODS;

export type Authorization = { Basic: string } | { Bearer: string } | { Raw: string };

/** A provider: a JSON-RPC URL (`auth` left out when there is none) or another node. */
export type NodeOrRpcUrl =
  | { RpcUrl: { url: string; auth?: Authorization | null } }
  | { Node: { hns_update: { name: string; [field: string]: unknown }; use_as_provider: boolean } };

export interface ProviderConfig {
  chain_id: number;
  trusted: boolean;
  provider: NodeOrRpcUrl;
}

export interface AccessSettings {
  public: boolean;
  allow: string[];
  deny: string[];
}

export type EthConfigAction =
  | { AddProvider: ProviderConfig }
  | { RemoveProvider: [number, string] }
  | 'SetPublic'
  | 'SetPrivate'
  | { AllowNode: string }
  | { UnallowNode: string }
  | { DenyNode: string }
  | { UndenyNode: string }
  | { SetProviders: ProviderConfig[] }
  | 'GetProviders'
  | 'GetAccessSettings'
  | 'GetState';

export type EthConfigResponse =
  | 'Ok'
  | { Providers: ProviderConfig[] }
  | { AccessSettings: AccessSettings }
  | 'PermissionDenied'
  | { State: { active_subscriptions: Record<string, Record<string, string | null>>; outstanding_requests: number[] } }
  | 'ProviderNotFound';

export function requestAction(chainId: number, method: string, params: unknown): EthAction {
  return { Request: { chain_id: chainId, method, params } };
}

export function subscribeAction(chainId: number, subId: number, kind: SubscriptionKind, params: unknown): EthAction {
  return { SubscribeLogs: { sub_id: subId, chain_id: chainId, kind, params } };
}

function ethError(err: unknown): EthError {
  const hint =
    err === 'NoRpcForChain'
      ? ': no provider for this chain answered; add one (add-rpcurl-provider) or use the chain the node runs on'
      : err === 'PermissionDenied'
        ? ': eth refuses requests from other nodes unless made public or told to allow the node'
        : err === 'MalformedRequest'
          ? ': the body is not an EthAction (or, for UnsubscribeLogs, there is no such subscription)'
          : err !== null && typeof err === 'object' && 'InvalidMethod' in err
            ? `: eth passes on only ${VALID_METHODS.join(', ')}`
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

  /** A JSON-RPC method among VALID_METHODS; returns the RPC result. */
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

/**
 * Send an EthConfigAction (needs eth's root capability: `{"root": true}` from eth:distro:sys) and
 * return its answer; PermissionDenied and ProviderNotFound come back as answers, not errors.
 */
export function configure(action: EthConfigAction, timeout = 5): EthConfigResponse {
  return callModule('eth', action, ethError, { timeout }).value as EthConfigResponse;
}

export type SubscriptionUpdate = { id: number; result: unknown } | { id: number; error: string };

/** A subscription update (`{"Ok": {id, result}}` or `{"Err": {id, error}}`), or undefined if it is not one. */
export function parseSubscriptionUpdate(message: Message): SubscriptionUpdate | undefined {
  if (!message.isRequest() || message.source.process.processName !== 'eth') return undefined;
  const v = message.json<{ Ok?: { id: number; result: unknown }; Err?: { id: number; error: string } }>();
  return v?.Ok ?? v?.Err;
}
