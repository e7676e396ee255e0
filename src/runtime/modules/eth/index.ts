// eth:distro:sys — the book's ETH Provider API. EthAction (Request = any JSON-RPC call,
// SubscribeLogs / UnsubscribeLogs with updates delivered as Requests) from any process that may
// message us; EthConfigAction only with our root capability. Providers come from
// `<home>/.eth_providers`, `--rpc` and the fake chain; all calls go through viem.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPublicClient, http, type PublicClient } from 'viem';
import type { KernelApi, NativeProcess } from '../../kernel/api.js';
import { type Address, addressToString, fromUtf8, jsonBytes, type KernelMessage, systemProcess } from '../../../core/types.js';

export const ETH_PROCESS = systemProcess('eth');
export const FAKE_CHAIN_ID = 31337;

export interface ProviderConfig {
  chain_id: number;
  trusted: boolean;
  provider: { RpcUrl: string } | { Node: { hns_update: unknown; use_as_provider: boolean } };
}

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
  | { InvalidMethod: string };

interface Subscription {
  owner: Address;
  id: number;
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
        this.saved = JSON.parse(readFileSync(file, 'utf8')) as ProviderConfig[];
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
      const p: ProviderConfig = { chain_id: FAKE_CHAIN_ID, trusted: true, provider: { RpcUrl: this.opts.rpc } };
      if (!this.saved.some((s) => sameProvider(s, p))) this.saved.push(p);
      this.save();
    }
    if (this.opts.fakechainPort) {
      this.fake = { chain_id: FAKE_CHAIN_ID, trusted: true, provider: { RpcUrl: `ws://localhost:${this.opts.fakechainPort}` } };
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
    const key = typeof action === 'string' ? action : action && typeof action === 'object' ? Object.keys(action)[0] : undefined;
    const val = key && typeof action === 'object' ? (action as Record<string, unknown>)[key] : undefined;
    if (key === 'Request' || key === 'SubscribeLogs' || key === 'UnsubscribeLogs') {
      // Serving other nodes (a public provider) is not part of the fake node.
      if (km.source.node !== this.kernel.our) {
        this.reply(km, { Err: 'PermissionDenied' });
        return;
      }
      return this.ethAction(km, key, val);
    }
    if (key !== undefined && CONFIG_ACTIONS.has(key)) return this.configAction(km, key, val);
    this.reply(km, { Err: 'MalformedRequest' });
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.subs.clear();
  }

  // ---- EthAction ----

  private async ethAction(km: KernelMessage, key: string, val: unknown): Promise<void> {
    if (key === 'UnsubscribeLogs') {
      if (typeof val !== 'number') {
        this.reply(km, { Err: 'MalformedRequest' });
        return;
      }
      this.subs.delete(subKey(km.source, val));
      this.schedule();
      this.reply(km, 'Ok');
      return;
    }
    const v = val as Record<string, unknown> | undefined;
    if (!v || typeof v.chain_id !== 'number') {
      this.reply(km, { Err: 'MalformedRequest' });
      return;
    }
    const client = this.clientFor(v.chain_id);
    if (!client) {
      this.reply(km, { Err: 'NoRpcForChain' });
      return;
    }

    if (key === 'Request') {
      if (typeof v.method !== 'string') {
        this.reply(km, { Err: 'MalformedRequest' });
        return;
      }
      const params = v.params === undefined || v.params === null ? [] : v.params;
      this.outstanding.add(km.id);
      try {
        const result = await this.call(client, v.method, params);
        this.reply(km, { Response: result ?? null });
      } catch (e) {
        this.reply(km, { Err: rpcError(e) });
      } finally {
        this.outstanding.delete(km.id);
      }
      return;
    }

    // SubscribeLogs
    const id = v.sub_id;
    const kind = v.kind;
    if (typeof id !== 'number' || (kind !== 'logs' && kind !== 'newHeads')) {
      this.reply(km, { Err: typeof id === 'number' ? { InvalidMethod: String(kind) } : 'MalformedRequest' });
      return;
    }
    const filter = (kind === 'logs' ? v.params : {}) as Record<string, unknown>;
    if (kind === 'logs' && (!filter || typeof filter !== 'object')) {
      this.reply(km, { Err: 'InvalidParams' });
      return;
    }
    let head: bigint;
    try {
      head = BigInt((await this.call(client, 'eth_blockNumber', [])) as string);
    } catch (e) {
      this.reply(km, { Err: rpcError(e) });
      return;
    }
    // Updates are Requests to the subscriber: they reach it only if it granted eth:distro:sys a
    // capability (grant_capabilities), as on Hyperdrive.
    // Like an eth_subscribe: only blocks after now.
    this.subs.set(subKey(km.source, id), { owner: km.source, id, chainId: v.chain_id, kind, filter, lastBlock: head });
    this.schedule();
    this.reply(km, 'Ok');
  }

  private clientFor(chainId: number): PublicClient | undefined {
    const p = this.providers().find((x) => x.chain_id === chainId && 'RpcUrl' in x.provider);
    if (!p || !('RpcUrl' in p.provider)) return undefined;
    // anvil (and most nodes) serve HTTP on the same port as WebSocket.
    const url = p.provider.RpcUrl.replace(/^ws(s?):\/\//, 'http$1://');
    let c = this.clients.get(url);
    if (!c) {
      c = createPublicClient({ transport: http(url, { retryCount: 0, timeout: RPC_TIMEOUT_MS }) });
      this.clients.set(url, c);
    }
    return c;
  }

  private call(client: PublicClient, method: string, params: unknown): Promise<unknown> {
    return client.request({ method: method as 'eth_blockNumber', params: params as never });
  }

  /** One poll loop for all subscriptions, only while there are any. */
  private schedule(): void {
    if (this.subs.size > 0 && !this.timer && !this.stopped) {
      this.timer = setInterval(() => void this.poll(), this.opts.pollMs ?? 100);
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
        const client = this.clientFor(sub.chainId);
        if (!client) continue;
        let head: bigint;
        try {
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
    const root = { issuer: { node: this.kernel.our, process: this.id }, params: JSON.stringify({ root: true }) };
    if (km.source.node !== this.kernel.our || !this.kernel.hasCapability(km.source.process, root)) {
      this.reply(km, 'PermissionDenied');
      return;
    }
    const list = (xs: string[], add: boolean, name: unknown) =>
      typeof name !== 'string' ? xs : add ? [...new Set([...xs, name])] : xs.filter((x) => x !== name);
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
      case 'AddProvider': {
        if (!isProvider(val)) {
          this.reply(km, { Err: 'MalformedRequest' });
          return;
        }
        this.saved = [val, ...this.saved.filter((s) => !sameProvider(s, val))];
        break;
      }
      case 'RemoveProvider': {
        if (!Array.isArray(val) || val.length !== 2) {
          this.reply(km, { Err: 'MalformedRequest' });
          return;
        }
        const [chainId, target] = val as [number, string];
        this.saved = this.saved.filter((s) => !(s.chain_id === chainId && providerName(s) === target));
        if (this.fake && this.fake.chain_id === chainId && providerName(this.fake) === target) this.fake = undefined;
        break;
      }
      case 'SetProviders': {
        if (!Array.isArray(val) || !val.every(isProvider)) {
          this.reply(km, { Err: 'MalformedRequest' });
          return;
        }
        this.saved = val as ProviderConfig[];
        this.fake = undefined;
        break;
      }
      case 'SetPublic':
        this.access.public = true;
        break;
      case 'SetPrivate':
        this.access.public = false;
        break;
      case 'AllowNode':
        this.access.allow = list(this.access.allow, true, val);
        break;
      case 'UnallowNode':
        this.access.allow = list(this.access.allow, false, val);
        break;
      case 'DenyNode':
        this.access.deny = list(this.access.deny, true, val);
        break;
      case 'UndenyNode':
        this.access.deny = list(this.access.deny, false, val);
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

function subKey(a: Address, id: number): string {
  return `${addressToString(a)}#${id}`;
}

function hex(n: bigint): string {
  return `0x${n.toString(16)}`;
}

function providerName(p: ProviderConfig): string {
  if ('RpcUrl' in p.provider) return p.provider.RpcUrl;
  const u = p.provider.Node.hns_update as { name?: string } | unknown[];
  return Array.isArray(u) ? String(u[0]) : String((u as { name?: string })?.name);
}

function sameProvider(a: ProviderConfig, b: ProviderConfig): boolean {
  return a.chain_id === b.chain_id && providerName(a) === providerName(b);
}

function isProvider(v: unknown): v is ProviderConfig {
  const p = v as ProviderConfig;
  return !!p && typeof p.chain_id === 'number' && typeof p.trusted === 'boolean' && !!p.provider && typeof p.provider === 'object';
}

/** viem errors -> EthError: JSON-RPC errors keep their code/message; the rest are timeouts or garbage. */
function rpcError(e: unknown): EthError {
  let cur = e as { name?: string; code?: number; message?: string; shortMessage?: string; details?: string; cause?: unknown } | undefined;
  while (cur) {
    if (cur.name === 'TimeoutError') return 'RpcTimeout';
    if (cur.name === 'RpcRequestError' || (typeof cur.code === 'number' && cur.code < 0)) {
      return { RpcError: { code: cur.code, message: cur.details ?? cur.shortMessage ?? cur.message } };
    }
    cur = cur.cause as typeof cur;
  }
  const msg = (e as Error)?.message ?? String(e);
  if (/fetch failed|ECONNREFUSED|HTTP request failed/i.test(msg)) return { RpcError: { code: -32603, message: msg.split('\n')[0] } };
  return 'RpcMalformedResponse';
}
