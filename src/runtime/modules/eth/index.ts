// eth:distro:sys — the ETH Provider API, answering as hyperdrive/src/eth/mod.rs with the types of
// lib/src/eth.rs: EthAction (Request = a JSON-RPC call among the methods valid_method allows,
// SubscribeLogs / UnsubscribeLogs with updates delivered as Requests) from any process that may
// message us; EthConfigAction only with our root capability. Providers come from
// `<home>/.eth_providers`, `--rpc` and the fake chain; all calls go through viem.

import { ETH_VALID_METHODS } from '../../../core/wire-enums.js';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPublicClient, http, type PublicClient } from 'viem';
import { isU64 as isExactU64, parseJsonExact } from '../../../core/json.js';
import type { KernelApi, NativeProcess } from '../../kernel/api.js';
import { type Address, addressToString, fromUtf8, jsonBytes, type KernelMessage, systemProcess } from '../../../core/types.js';
import { type Authorization, authorizationHeader, insertProvider, isU64, type ProviderConfig, parseProviderConfig, providerName } from './providers.js';

export type { Authorization, NodeOrRpcUrl, ProviderConfig } from './providers.js';

export const ETH_PROCESS = systemProcess('eth');
export const FAKE_CHAIN_ID = 31337;

export interface AccessSettings {
  public: boolean;
  allow: string[];
  deny: string[];
}

export interface EthModuleOptions {
  home: string;
  /** Port of the local fake chain: a chain 31337 provider at index 0 (not saved). */
  fakechainPort?: number;
  /** `--rpc URL`: a trusted provider for chain 31337 (saved). */
  rpc?: string;
  /** How often subscriptions poll for new blocks. Default 100 ms. */
  pollMs?: number;
}

type EthError =
  | 'MalformedRequest'
  | 'NoRpcForChain'
  | 'InvalidParams'
  | 'PermissionDenied'
  | 'RpcTimeout'
  | 'RpcMalformedResponse'
  | { RpcError: unknown }
  | { SubscriptionClosed: number }
  | { InvalidMethod: string }
  | 'RateLimited';

/** Hyperdrive's valid_method: the only JSON-RPC methods eth passes on; others are InvalidMethod. */
export const VALID_METHODS: ReadonlySet<string> = new Set(ETH_VALID_METHODS);

const SUBSCRIPTION_KINDS = new Set(['newHeads', 'logs', 'newPendingTransactions', 'syncing']);

interface Subscription {
  owner: Address;
  /** The u64 the subscriber picked (a bigint above 2^53: kept exact). */
  id: number | bigint;
  chainId: number;
  kind: 'logs' | 'newHeads';
  filter: Record<string, unknown>;
  /** Last block already delivered. */
  lastBlock: bigint;
}

const RPC_TIMEOUT_MS = 60_000;

export function createEthModule(opts: EthModuleOptions): NativeProcess & { providers(): ProviderConfig[] } {
  return new EthModule(opts);
}

class EthModule implements NativeProcess {
  readonly id = ETH_PROCESS;
  private kernel!: KernelApi;
  private saved: ProviderConfig[] = [];
  private fake?: ProviderConfig;
  private access: AccessSettings = { public: false, allow: [], deny: [] };
  private clients = new Map<string, PublicClient>();
  private subs = new Map<string, Subscription>();
  private outstanding = new Set<bigint>();
  private timer?: NodeJS.Timeout;
  private polling = false;
  private stopped = false;

  constructor(private readonly opts: EthModuleOptions) {}

  start(kernel: KernelApi): void {
    this.kernel = kernel;
    const file = join(this.opts.home, '.eth_providers');
    if (existsSync(file)) {
      try {
        const raw = JSON.parse(readFileSync(file, 'utf8')) as unknown;
        const list = Array.isArray(raw) ? raw : [];
        this.saved = list.map(parseProviderConfig).filter((p): p is ProviderConfig => p !== undefined);
        if (!Array.isArray(raw) || this.saved.length < list.length) kernel.log.warning(`eth: ignoring entries of ${file} that are not provider configs`);
      } catch {
        kernel.log.warning(`eth: ignoring unreadable ${file}`);
      }
    }
    const accessFile = join(this.opts.home, '.eth_access_settings');
    if (existsSync(accessFile)) {
      try {
        this.access = JSON.parse(readFileSync(accessFile, 'utf8')) as AccessSettings;
      } catch {
        kernel.log.warning(`eth: ignoring unreadable ${accessFile}`);
      }
    }
    if (this.opts.rpc) {
      const p: ProviderConfig = { chain_id: FAKE_CHAIN_ID, trusted: true, provider: { RpcUrl: { url: this.opts.rpc } } };
      if (!this.saved.some((s) => s.chain_id === p.chain_id && providerName(s) === providerName(p))) this.saved.push(p);
      this.save();
    }
    if (this.opts.fakechainPort) {
      this.fake = { chain_id: FAKE_CHAIN_ID, trusted: true, provider: { RpcUrl: { url: `ws://localhost:${this.opts.fakechainPort}` } } };
    }
  }

  providers(): ProviderConfig[] {
    return this.fake ? [this.fake, ...this.saved] : [...this.saved];
  }

  async handle(km: KernelMessage): Promise<void> {
    if (km.message.tag !== 'request') return;
    let action: unknown;
    try {
      action = JSON.parse(fromUtf8(km.message.val.body));
    } catch {
      this.reply(km, { Err: 'MalformedRequest' });
      return;
    }
    // Hyperdrive reads the body as IncomingReq (untagged): EthAction, EthConfigAction, a
    // subscription update from a remote provider (ignored here), or a sub keepalive (a bare u64).
    const key = typeof action === 'string' ? action : action && typeof action === 'object' && !Array.isArray(action) ? Object.keys(action)[0] : undefined;
    let val = key && typeof action === 'object' ? (action as Record<string, unknown>)[key] : undefined;
    if (key === 'SubscribeLogs' || key === 'UnsubscribeLogs') val = withExactSubId(km.message.val.body, key, val);
    const single = typeof action === 'string' || (key !== undefined && Object.keys(action as object).length === 1);
    try {
      if (single && (key === 'Request' || key === 'SubscribeLogs' || key === 'UnsubscribeLogs') && isEthAction(key, val)) {
        // Serving other nodes (a public provider) is not part of the fake node.
        if (km.source.node !== this.kernel.our) {
          this.reply(km, { Err: 'PermissionDenied' });
          return;
        }
        return await this.ethAction(km, key, val);
      }
      if (single && key !== undefined && CONFIG_ACTIONS.has(key)) return this.configAction(km, key, val);
      if (isSubResult(action)) return; // only meaningful from a provider node we subscribed through
      if (isU64(action)) {
        // SubKeepalive from a node using us as its provider: we hold no remote subscriptions.
        this.reply(km, { Err: { id: action, error: 'Subscription not found' } });
        return;
      }
      this.reply(km, { Err: 'MalformedRequest' });
    } catch (e) {
      // Nothing a process sends may take the node down; say what broke instead.
      this.kernel.log.error(`eth: ${key ?? 'request'} from ${addressToString(km.source)} failed: ${(e as Error).message}`);
      this.reply(km, { Err: 'MalformedRequest' });
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.subs.clear();
  }

  // ---- EthAction ----

  private async ethAction(km: KernelMessage, key: string, val: unknown): Promise<void> {
    if (key === 'UnsubscribeLogs') {
      // Hyperdrive: unsubscribing from a subscription that does not exist is MalformedRequest.
      if (!this.subs.delete(subKey(km.source, val as number | bigint))) {
        this.reply(km, { Err: 'MalformedRequest' });
        return;
      }
      this.schedule();
      this.reply(km, 'Ok');
      return;
    }
    const v = val as { chain_id: number; method?: string; params: unknown; sub_id?: number | bigint; kind?: string };

    if (key === 'Request') {
      const method = v.method as string;
      // fulfill_request checks the method before it looks for a provider.
      if (!VALID_METHODS.has(method)) {
        this.reply(km, { Err: { InvalidMethod: method } });
        return;
      }
      this.outstanding.add(km.id);
      try {
        this.reply(km, await this.fulfill(v.chain_id, method, v.params));
      } finally {
        this.outstanding.delete(km.id);
      }
      return;
    }

    // SubscribeLogs
    const id = v.sub_id as number | bigint;
    const kind = v.kind;
    const client = this.clientFor(v.chain_id);
    if (!client) {
      this.reply(km, { Err: 'NoRpcForChain' });
      return;
    }
    // Polling serves newHeads and logs; the other two kinds need the provider's own push.
    if (kind !== 'logs' && kind !== 'newHeads') {
      this.reply(km, { Err: { InvalidMethod: String(kind) } });
      return;
    }
    // A filter the provider refuses fails the subscription, which Hyperdrive reports as
    // NoRpcForChain once no provider would take it.
    const filter = (kind === 'logs' ? v.params : {}) as Record<string, unknown>;
    if (kind === 'logs' && (!filter || typeof filter !== 'object' || Array.isArray(filter))) {
      this.reply(km, { Err: 'NoRpcForChain' });
      return;
    }
    let head: bigint;
    try {
      head = BigInt((await this.call(client, 'eth_blockNumber', [])) as string);
    } catch {
      this.reply(km, { Err: 'NoRpcForChain' });
      return;
    }
    // Updates are Requests to the subscriber: they reach it only if it granted eth:distro:sys a
    // capability (grant_capabilities), as on Hyperdrive.
    // Like an eth_subscribe: only blocks after now.
    this.subs.set(subKey(km.source, id), { owner: km.source, id, chainId: v.chain_id, kind, filter, lastBlock: head });
    this.schedule();
    this.reply(km, 'Ok');
  }

  /**
   * Hyperdrive's fulfill_request: the chain's providers in order until one answers; a JSON-RPC
   * error answer is kept and the next tried, and is the answer if none does; none at all (or none
   * reachable) is NoRpcForChain.
   */
  private async fulfill(chainId: number, method: string, params: unknown): Promise<{ Response: unknown } | { Err: EthError }> {
    let last: EthError = 'NoRpcForChain';
    for (const p of this.providers()) {
      if (p.chain_id !== chainId || !('RpcUrl' in p.provider)) continue;
      try {
        // process_lib sends `()` (null) for methods without parameters; a JSON-RPC server reads [].
        const result = await this.call(this.client(p.provider.RpcUrl), method, params ?? []);
        return { Response: result ?? null };
      } catch (e) {
        const err = rpcError(e);
        if (err !== 'NoRpcForChain' && (last === 'NoRpcForChain' || typeof err === 'object')) last = err;
      }
    }
    return { Err: last };
  }

  /** The first RpcUrl provider of the chain, for subscriptions. */
  private clientFor(chainId: number): PublicClient | undefined {
    const p = this.providers().find((x) => x.chain_id === chainId && 'RpcUrl' in x.provider);
    if (!p || !('RpcUrl' in p.provider)) return undefined;
    try {
      return this.client(p.provider.RpcUrl);
    } catch {
      return undefined; // a URL viem cannot use: no provider
    }
  }

  private client(provider: { url: string; auth?: Authorization }): PublicClient {
    const { url: given, auth } = provider;
    // anvil (and most nodes) serve HTTP on the same port as WebSocket.
    const url = given.replace(/^ws(s?):\/\//, 'http$1://');
    const header = auth ? authorizationHeader(auth) : undefined;
    const key = `${url} ${header ?? ''}`;
    let c = this.clients.get(key);
    if (!c) {
      const fetchOptions = header ? { headers: { Authorization: header } } : undefined;
      c = createPublicClient({ transport: http(url, { retryCount: 0, timeout: RPC_TIMEOUT_MS, fetchOptions }) });
      this.clients.set(key, c);
    }
    return c;
  }

  private call(client: PublicClient, method: string, params: unknown): Promise<unknown> {
    return client.request({ method: method as 'eth_blockNumber', params: params as never });
  }

  /** One poll loop for all subscriptions, only while there are any. */
  private schedule(): void {
    if (this.subs.size > 0 && !this.timer && !this.stopped) {
      this.timer = setInterval(() => {
        this.poll().catch((e) => this.kernel.log.error(`eth: polling subscriptions failed: ${(e as Error).message}`));
      }, this.opts.pollMs ?? 100);
    } else if (this.subs.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      for (const sub of [...this.subs.values()]) {
        let client: PublicClient | undefined;
        let head: bigint;
        try {
          client = this.clientFor(sub.chainId);
          if (!client) continue;
          head = BigInt((await this.call(client, 'eth_blockNumber', [])) as string);
        } catch {
          continue; // the chain may be restarting; try again next tick
        }
        if (head <= sub.lastBlock) continue;
        const from = sub.lastBlock + 1n;
        try {
          if (sub.kind === 'logs') {
            const { fromBlock: _f, toBlock: _t, blockHash: _b, ...rest } = sub.filter;
            const logs = (await this.call(client, 'eth_getLogs', [{ ...rest, fromBlock: hex(from), toBlock: hex(head) }])) as unknown[];
            if (!this.subs.has(subKey(sub.owner, sub.id))) continue;
            for (const log of logs) this.deliver(sub, { Ok: { id: sub.id, result: log } });
          } else {
            for (let n = from; n <= head; n++) {
              const block = await this.call(client, 'eth_getBlockByNumber', [hex(n), false]);
              this.deliver(sub, { Ok: { id: sub.id, result: block } });
            }
          }
          sub.lastBlock = head;
        } catch (e) {
          this.subs.delete(subKey(sub.owner, sub.id));
          this.deliver(sub, { Err: { id: sub.id, error: (e as Error).message } });
        }
      }
    } finally {
      this.polling = false;
      this.schedule();
    }
  }

  private deliver(sub: Subscription, body: unknown): void {
    if (this.stopped) return;
    this.kernel.tell(this.id, sub.owner, jsonBytes(body));
  }

  // ---- EthConfigAction ----

  private configAction(km: KernelMessage, key: string, val: unknown): void {
    // As serde reads EthConfigAction: a payload of the wrong shape is MalformedRequest, before
    // any permission check.
    const config = parseConfigAction(key, val);
    if (!config) {
      this.reply(km, { Err: 'MalformedRequest' });
      return;
    }
    const root = { issuer: { node: this.kernel.our, process: this.id }, params: JSON.stringify({ root: true }) };
    if (km.source.node !== this.kernel.our || !this.kernel.hasCapability(km.source.process, root)) {
      this.reply(km, 'PermissionDenied');
      return;
    }
    const name = typeof config.value === 'string' ? config.value : '';
    const add = (xs: string[]) => [...new Set([...xs, name])];
    const remove = (xs: string[]) => xs.filter((x) => x !== name);
    switch (key) {
      case 'GetProviders':
        this.reply(km, { Providers: this.providers() });
        return;
      case 'GetAccessSettings':
        this.reply(km, { AccessSettings: this.access });
        return;
      case 'GetState': {
        const active: Record<string, Record<string, null>> = {};
        for (const s of this.subs.values()) {
          const a = addressToString(s.owner);
          active[a] ??= {};
          active[a][String(s.id)] = null;
        }
        this.reply(km, { State: { active_subscriptions: active, outstanding_requests: [...this.outstanding].map(Number) } });
        return;
      }
      case 'AddProvider':
        this.saved = insertProvider(this.saved, config.value as ProviderConfig);
        break;
      case 'RemoveProvider': {
        const [chainId, target] = config.value as [number, string];
        const before = this.saved.length + (this.fake ? 1 : 0);
        this.saved = this.saved.filter((s) => !(s.chain_id === chainId && providerName(s) === target));
        if (this.fake && this.fake.chain_id === chainId && providerName(this.fake) === target) this.fake = undefined;
        if (this.saved.length + (this.fake ? 1 : 0) === before) {
          this.reply(km, 'ProviderNotFound');
          return;
        }
        break;
      }
      case 'SetProviders':
        this.saved = (config.value as ProviderConfig[]).reduceRight<ProviderConfig[]>((list, p) => insertProvider(list, p), []);
        this.fake = undefined;
        break;
      case 'SetPublic':
        this.access.public = true;
        break;
      case 'SetPrivate':
        this.access.public = false;
        break;
      case 'AllowNode':
        this.access.allow = add(this.access.allow);
        break;
      case 'UnallowNode':
        this.access.allow = remove(this.access.allow);
        break;
      case 'DenyNode':
        this.access.deny = add(this.access.deny);
        break;
      case 'UndenyNode':
        this.access.deny = remove(this.access.deny);
        break;
    }
    this.save();
    this.reply(km, 'Ok');
  }

  private save(): void {
    try {
      writeFileSync(join(this.opts.home, '.eth_providers'), JSON.stringify(this.saved));
      const a = this.access;
      if (a.public || a.allow.length > 0 || a.deny.length > 0) {
        writeFileSync(join(this.opts.home, '.eth_access_settings'), JSON.stringify(a));
      }
    } catch (e) {
      this.kernel.log.warning(`eth: could not save settings: ${(e as Error).message}`);
    }
  }

  private reply(km: KernelMessage, body: unknown): void {
    if (km.message.tag === 'request' && km.message.val.expectsResponse !== undefined) {
      this.kernel.respond(this.id, km, jsonBytes(body));
    }
  }
}

const CONFIG_ACTIONS = new Set([
  'AddProvider',
  'RemoveProvider',
  'SetPublic',
  'SetPrivate',
  'AllowNode',
  'UnallowNode',
  'DenyNode',
  'UndenyNode',
  'SetProviders',
  'GetProviders',
  'GetAccessSettings',
  'GetState',
]);

/** The sub_id of (Un)SubscribeLogs as its exact u64 (JSON.parse rounds one above 2^53). */
function withExactSubId(body: Uint8Array, key: string, val: unknown): unknown {
  try {
    const exact = (parseJsonExact(fromUtf8(body)) as Record<string, unknown>)[key];
    if (key === 'UnsubscribeLogs') return exact;
    if (val && typeof val === 'object' && exact && typeof exact === 'object') return { ...val, sub_id: (exact as { sub_id?: unknown }).sub_id };
  } catch {}
  return val;
}

function subKey(a: Address, id: number | bigint): string {
  return `${addressToString(a)}#${id}`;
}

function hex(n: bigint): string {
  return `0x${n.toString(16)}`;
}

const UNIT_CONFIG_ACTIONS = new Set(['SetPublic', 'SetPrivate', 'GetProviders', 'GetAccessSettings', 'GetState']);
const NODE_CONFIG_ACTIONS = new Set(['AllowNode', 'UnallowNode', 'DenyNode', 'UndenyNode']);

/** An EthConfigAction's payload as serde would read it (providers normalised), or undefined. */
function parseConfigAction(key: string, val: unknown): { value: unknown } | undefined {
  if (UNIT_CONFIG_ACTIONS.has(key)) return val === undefined || val === null ? { value: null } : undefined;
  if (NODE_CONFIG_ACTIONS.has(key)) return typeof val === 'string' ? { value: val } : undefined;
  if (key === 'AddProvider') {
    const p = parseProviderConfig(val);
    return p ? { value: p } : undefined;
  }
  if (key === 'RemoveProvider')
    return Array.isArray(val) && val.length === 2 && isU64(val[0]) && typeof val[1] === 'string' ? { value: val } : undefined;
  if (key === 'SetProviders') {
    if (!Array.isArray(val)) return undefined;
    const list = val.map(parseProviderConfig);
    return list.every((p) => p !== undefined) ? { value: list } : undefined;
  }
  return undefined;
}

/** Whether `val` is the payload serde would accept for the EthAction `key`. */
function isEthAction(key: string, val: unknown): boolean {
  if (key === 'UnsubscribeLogs') return isExactU64(val);
  if (!val || typeof val !== 'object' || Array.isArray(val)) return false;
  const v = val as Record<string, unknown>;
  // serde_json::Value fields must be present (null is a value).
  if (!isU64(v.chain_id) || !('params' in v)) return false;
  if (key === 'Request') return typeof v.method === 'string';
  return isExactU64(v.sub_id) && typeof v.kind === 'string' && SUBSCRIPTION_KINDS.has(v.kind);
}

/** An EthSubResult: `{"Ok": {"id", "result"}}` or `{"Err": {"id", "error"}}`. */
function isSubResult(v: unknown): boolean {
  if (!v || typeof v !== 'object' || Array.isArray(v) || Object.keys(v).length !== 1) return false;
  const inner = (v as Record<string, unknown>).Ok ?? (v as Record<string, unknown>).Err;
  if (!inner || typeof inner !== 'object') return false;
  const i = inner as Record<string, unknown>;
  return isU64(i.id) && ('result' in i || typeof i.error === 'string');
}

/**
 * viem errors -> EthError as Hyperdrive's fulfill_request reports them: a JSON-RPC error answer
 * is RpcError with its {code, message}; running out of time is RpcTimeout; a provider that cannot
 * be reached or answers garbage counts as no provider, NoRpcForChain.
 */
function rpcError(e: unknown): EthError {
  let cur = e as { name?: string; code?: number; message?: string; shortMessage?: string; details?: string; cause?: unknown } | undefined;
  while (cur) {
    if (cur.name === 'TimeoutError') return 'RpcTimeout';
    if (cur.name === 'RpcRequestError' || (typeof cur.code === 'number' && cur.code < 0)) {
      return { RpcError: { code: cur.code, message: cur.details ?? cur.shortMessage ?? cur.message } };
    }
    cur = cur.cause as typeof cur;
  }
  return 'NoRpcForChain';
}
