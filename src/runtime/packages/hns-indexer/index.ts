// hns-indexer:hns-indexer:sys — follows Hypermap's Mint and Note events through eth:distro:sys
// (interop §5.5), keeps the name table and the node records (the PKI), sends every complete record
// to net:distro:sys as a MessagePack `{"HnsUpdate": [name, public_key, ips, ports, routers]}`, and
// answers node-info queries:
//   {"NodeInfo": {"name": "fake.dev", "block": 0}}          -> {"NodeInfo": <record> | null}
//   {"NamehashToName": {"hash": "0x…", "block": 0}}         -> {"Name": "fake.dev" | null}
//   {"GetState": {"block": 0}}                              -> {"GetState": {"last_block", "names", "nodes"}}
// A `block` above what the indexer has seen makes it wait (up to 5 s) for that block first.

import { Packr } from 'msgpackr';
import { decodeEventLog, type Hex, hexToBytes, hexToString } from 'viem';
import { HYPERMAP, hypermapAbi, namehash } from '../../../core/hypermap.js';
import type { KernelApi, NativeProcess } from '../../kernel/api.js';
import { askEth, FAKE_CHAIN_ID, followHypermapLogs, type RpcLog } from '../../modules/eth/ask.js';
import { fromUtf8, jsonBytes, type KernelMessage, type ProcessId, systemProcess } from '../../../core/types.js';

export const HNS_INDEXER_PROCESS: ProcessId = { processName: 'hns-indexer', packageName: 'hns-indexer', publisherNode: 'sys' };
const NET = systemProcess('net');
const CHAIN_ID = FAKE_CHAIN_ID;
const SUB_ID = 1;

const NET_NOTES = new Set(['~ws-port', '~tcp-port', '~net-key', '~routers', '~ip']);

const packr = new Packr({ useRecords: false, mapsAsObjects: true });

/** One HNS record: the fields of the real HnsUpdate, in its order. */
export interface NodeRecord {
  name: string;
  public_key: string;
  ips: string[];
  ports: Record<string, number>;
  routers: string[];
}


export interface HnsIndexerOptions {
  /** Where the net module lives (tests point it elsewhere). Default net:distro:sys. */
  net?: ProcessId;
}

export function createHnsIndexer(opts: HnsIndexerOptions = {}): NativeProcess & { records(): NodeRecord[]; ready: Promise<void> } {
  return new HnsIndexer(opts.net ?? NET);
}

class HnsIndexer implements NativeProcess {
  readonly id = HNS_INDEXER_PROCESS;
  private kernel!: KernelApi;
  private names = new Map<string, string>();
  private nodes = new Map<string, NodeRecord>();
  private pending: RpcLog[] = [];
  private seen = new Set<string>();
  private lastBlock = 0n;
  private waiters: { block: bigint; resolve: () => void }[] = [];
  private resolveReady!: () => void;
  readonly ready = new Promise<void>((r) => {
    this.resolveReady = r;
  });

  constructor(private readonly net: ProcessId) {
    // As in simulation mode: the TLDs are known before any log arrives.
    this.names.set(namehash(''), '');
    this.names.set(namehash('os'), 'os');
    this.names.set(namehash('dev'), 'dev');
  }

  records(): NodeRecord[] {
    return [...this.nodes.values()];
  }

  start(kernel: KernelApi): void {
    this.kernel = kernel;
    // Boot does not wait for the chain; the indexer catches up in the background.
    void this.follow().catch((e) => kernel.log.warning(`hns-indexer: cannot follow Hypermap: ${(e as Error).message}`));
  }

  private eth(action: unknown): Promise<unknown> {
    return askEth(this.kernel, this.id, action);
  }

  private async follow(): Promise<void> {
    for (const log of await followHypermapLogs(this.kernel, this.id, SUB_ID)) this.ingest(log);
    const head = (await this.eth({ Request: { chain_id: CHAIN_ID, method: 'eth_blockNumber', params: [] } })) as { Response: Hex };
    this.advance(BigInt(head.Response));
    this.resolveReady();
  }

  handle(km: KernelMessage): void {
    if (km.message.tag !== 'request') return;
    let body: unknown;
    try {
      body = JSON.parse(fromUtf8(km.message.val.body));
    } catch {
      this.reply(km, { Err: 'MalformedRequest' });
      return;
    }
    const b = body as Record<string, unknown>;
    if (km.source.process.processName === 'eth' && km.source.node === this.kernel.our && ('Ok' in b || 'Err' in b)) {
      if ('Ok' in b) {
        const log = (b.Ok as { result: RpcLog }).result;
        this.ingest(log);
        this.advance(BigInt(log.blockNumber));
      } else {
        this.kernel.log.warning(`hns-indexer: subscription closed: ${JSON.stringify(b.Err)}`);
      }
      return;
    }
    void this.query(km, b);
  }

  private async query(km: KernelMessage, b: Record<string, unknown>): Promise<void> {
    const key = Object.keys(b)[0];
    const args = (b[key ?? ''] ?? {}) as { name?: string; hash?: string; block?: number };
    if (typeof args.block === 'number' && BigInt(args.block) > this.lastBlock) await this.waitFor(BigInt(args.block), 5000);
    switch (key) {
      case 'NodeInfo':
        this.reply(km, { NodeInfo: (args.name && this.nodes.get(args.name)) || null });
        return;
      case 'NamehashToName':
        this.reply(km, { Name: (args.hash && this.names.get(args.hash.toLowerCase())) ?? null });
        return;
      case 'GetState':
        this.reply(km, {
          GetState: { chain_id: CHAIN_ID, hypermap: HYPERMAP, last_block: Number(this.lastBlock), names: Object.fromEntries(this.names), nodes: this.records() },
        });
        return;
      default:
        this.reply(km, { Err: 'MalformedRequest' });
        return;
    }
  }

  private reply(km: KernelMessage, body: unknown): void {
    if (km.message.tag === 'request' && km.message.val.expectsResponse !== undefined) this.kernel.respond(this.id, km, jsonBytes(body));
  }

  private waitFor(block: bigint, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.waiters.push({
        block,
        resolve: () => {
          clearTimeout(t);
          resolve();
        },
      });
    });
  }

  private advance(block: bigint): void {
    if (block > this.lastBlock) this.lastBlock = block;
    this.waiters = this.waiters.filter((w) => {
      if (w.block > this.lastBlock) return true;
      w.resolve();
      return false;
    });
  }

  private ingest(log: RpcLog): void {
    const key = `${log.transactionHash}:${log.logIndex}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    if (!this.apply(log)) {
      this.pending.push(log);
      return;
    }
    // A new name may unblock notes (or children) that arrived first.
    let progress = true;
    while (progress && this.pending.length > 0) {
      progress = false;
      this.pending = this.pending.filter((p) => {
        if (!this.apply(p)) return true;
        progress = true;
        return false;
      });
    }
  }

  /** False when the log's parent is not known yet. */
  private apply(log: RpcLog): boolean {
    let ev: ReturnType<typeof decodeEventLog<typeof hypermapAbi>>;
    try {
      ev = decodeEventLog({ abi: hypermapAbi, topics: log.topics, data: log.data });
    } catch {
      return true; // not ours to read: drop
    }
    if (ev.eventName === 'Mint') {
      const parent = this.names.get(ev.args.parenthash);
      if (parent === undefined) return false;
      const label = hexToString(ev.args.label);
      const name = parent === '' ? label : `${label}.${parent}`;
      this.names.set(ev.args.childhash, name);
      if (!this.nodes.has(name)) this.nodes.set(name, { name, public_key: '', ips: [], ports: {}, routers: [] });
      return true;
    }
    if (ev.eventName !== 'Note') return true;
    const label = hexToString(ev.args.label);
    if (!NET_NOTES.has(label)) return true;
    const parent = this.names.get(ev.args.parenthash);
    if (parent === undefined) return false;
    const rec = this.nodes.get(parent) ?? { name: parent, public_key: '', ips: [], ports: {}, routers: [] };
    this.nodes.set(parent, rec);
    const data = hexToBytes(ev.args.data);
    switch (label) {
      case '~net-key':
        if (data.length !== 32) return true;
        rec.public_key = Buffer.from(data).toString('hex');
        break;
      case '~ws-port':
      case '~tcp-port': {
        if (data.length !== 2) return true;
        rec.ports[label === '~ws-port' ? 'ws' : 'tcp'] = (data[0]! << 8) | data[1]!;
        rec.routers = [];
        break;
      }
      case '~ip': {
        const ip = decodeIp(data);
        if (!ip) return true;
        rec.ips = [ip];
        rec.routers = [];
        break;
      }
      case '~routers': {
        const routers: string[] = [];
        for (let i = 0; i + 32 <= data.length; i += 32) {
          const n = this.names.get(`0x${Buffer.from(data.subarray(i, i + 32)).toString('hex')}`);
          if (n) routers.push(n);
        }
        rec.routers = routers;
        break;
      }
    }
    this.publish(rec);
    return true;
  }

  private publish(rec: NodeRecord): void {
    const complete = rec.public_key !== '' && ((rec.ips.length > 0 && Object.keys(rec.ports).length > 0) || rec.routers.length > 0);
    if (!complete) return;
    const body = packr.pack({ HnsUpdate: [rec.name, rec.public_key, rec.ips, rec.ports, rec.routers] });
    try {
      this.kernel.tell(this.id, { node: this.kernel.our, process: this.net }, new Uint8Array(body));
    } catch (e) {
      this.kernel.log.debug(`hns-indexer: could not tell net about ${rec.name}: ${(e as Error).message}`);
    }
  }
}

function decodeIp(b: Uint8Array): string | undefined {
  if (b.length === 4) return [...b].join('.');
  if (b.length === 16) {
    const parts: string[] = [];
    for (let i = 0; i < 16; i += 2) parts.push(((b[i]! << 8) | b[i + 1]!).toString(16));
    return parts.join(':');
  }
  return undefined;
}
