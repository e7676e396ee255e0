// hns-indexer:hns-indexer:sys — follows Hypermap's Mint and Note events through eth:distro:sys,
// keeps the name table and the node records (the PKI), sends every complete record to
// net:distro:sys as a MessagePack `{"HnsUpdate": [name, public_key, ips, ports, routers]}`, and
// answers in the JSON shapes of its WIT (hyperdrive/packages/hns-indexer/api/hns-indexer:sys-v0.wit),
// as hyperdrive/packages/hns-indexer/hns-indexer/src/lib.rs does:
//   {"NodeInfo": {"name", "block"}}        -> {"NodeInfo": {name, public_key, ips, ports: [[proto, port]], routers} | null}
//   {"NamehashToName": {"hash", "block"}}  -> {"Name": "x.dev" | null}
//   {"GetState": {"block"}}                -> {"GetState": {chain_id, contract_address: [20 u8], names: [[hash, name]], nodes: [[name, record]], last_block}}
//   "Reset"                                -> {"Reset": "Success" | {"Err": "NoRootCap"}}
// As the real one, `block` is accepted and not waited for, and a name it has not indexed is looked
// up on chain (`Hypermap.get`) before the answer is null; what is found is pushed to net.

import { decodeEventLog, decodeFunctionResult, encodeFunctionData, type Hex, hexToBytes, hexToString } from 'viem';
import { HYPERMAP, hypermapAbi, namehash } from '../../../core/hypermap.js';
import type { KernelApi, NativeProcess } from '../../kernel/api.js';
import { askEth, FAKE_CHAIN_ID, followHypermapLogs, MINT_TOPIC, NOTE_TOPIC, type RpcLog } from '../../modules/eth/ask.js';
import { encodeHnsUpdate, encodeNetAction } from '../../modules/net/wire.js';
import {
  type Capability,
  capabilityKey,
  fromUtf8,
  jsonBytes,
  type KernelMessage,
  type ProcessId,
  processIdToString,
  systemProcess,
} from '../../../core/types.js';

export const HNS_INDEXER_PROCESS: ProcessId = { processName: 'hns-indexer', packageName: 'hns-indexer', publisherNode: 'sys' };
const NET = systemProcess('net');
const CHAIN_ID = FAKE_CHAIN_ID;
const SUB_ID = 1;
/** lib.rs MAX_PENDING_ATTEMPTS and DELAY_MS: a parked note is retried this often, every 2 s. */
const MAX_PENDING_ATTEMPTS = 5;
const DELAY_MS = 2000;

const NET_NOTES = new Set(['~ws-port', '~tcp-port', '~net-key', '~routers', '~ip']);

/** One HNS record: the fields of the real HnsUpdate, in its order (ports a map, as net takes it). */
export interface NodeRecord {
  name: string;
  public_key: string;
  ips: string[];
  ports: Record<string, number>;
  routers: string[];
}

/** A note parked until its parent or its routers are known (lib.rs PendingNotes). */
interface PendingNote {
  parentHash: string;
  label: string;
  data: Uint8Array;
  attempt: number;
}

export interface HnsIndexerOptions {
  /** Where the net module lives (tests point it elsewhere). Default net:distro:sys. */
  net?: ProcessId;
}

export function createHnsIndexer(opts: HnsIndexerOptions = {}): NativeProcess & { records(): NodeRecord[]; ready: Promise<void> } {
  return new HnsIndexer(opts.net ?? NET);
}

/** The WIT's `wit-hns-update`: ports as `[protocol, port]` pairs, in the BTreeMap's key order. */
function witRecord(r: NodeRecord): unknown {
  const ports = Object.keys(r.ports)
    .sort()
    .map((k) => [k, r.ports[k]]);
  return { name: r.name, public_key: r.public_key, ips: r.ips, ports, routers: r.routers };
}

/** The BTreeMap the real HnsUpdate carries: keys sorted. */
function sortedPorts(ports: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of Object.keys(ports).sort()) out[k] = ports[k];
  return out;
}

const isU64 = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0;

class HnsIndexer implements NativeProcess {
  readonly id = HNS_INDEXER_PROCESS;
  private kernel!: KernelApi;
  private names = new Map<string, string>();
  private nodes = new Map<string, NodeRecord>();
  /** Notes waiting for a later block, by the block they came in. */
  private pendingNotes = new Map<bigint, PendingNote[]>();
  private seen = new Set<string>();
  private lastBlock = 0n;
  private tick?: NodeJS.Timeout;
  private stopped = false;
  private resolveReady!: () => void;
  readonly ready = new Promise<void>((r) => {
    this.resolveReady = r;
  });

  constructor(private readonly net: ProcessId) {
    // lib.rs add_temp_hardcoded_tlzs (simulation mode): the TLZs are known before any log arrives.
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

  stop(): void {
    this.stopped = true;
    if (this.tick) clearTimeout(this.tick);
  }

  private eth(action: unknown): Promise<unknown> {
    return askEth(this.kernel, this.id, action);
  }

  private async follow(): Promise<void> {
    for (const log of await followHypermapLogs(this.kernel, this.id, SUB_ID)) this.ingest(log);
    await this.refreshBlock();
    this.handlePendingNotes();
    this.resolveReady();
  }

  private async refreshBlock(): Promise<void> {
    const head = (await this.eth({ Request: { chain_id: CHAIN_ID, method: 'eth_blockNumber', params: [] } })) as { Response: Hex };
    this.advance(BigInt(head.Response));
  }

  handle(km: KernelMessage): void {
    if (km.message.tag !== 'request') return;
    // The real indexer holds no networking capability: no other node reaches it.
    if (km.source.node !== this.kernel.our) return;
    const text = fromUtf8(km.message.val.body);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (km.source.process.processName === 'eth' && processIdToString(km.source.process) === 'eth:distro:sys') {
      const b = (body ?? {}) as Record<string, unknown>;
      if ('Ok' in b) {
        try {
          this.ingest((b.Ok as { result: RpcLog }).result);
        } catch (e) {
          this.kernel.log.warning(`hns-indexer: a subscription update that is not a log: ${(e as Error).message}`);
        }
      } else {
        this.kernel.log.warning(`hns-indexer: subscription closed: ${JSON.stringify(b.Err ?? text)}`);
      }
      this.handlePendingNotes();
      return;
    }
    void this.query(km, body).catch((e) => this.kernel.log.warning(`hns-indexer: ${(e as Error).message}`));
  }

  private async query(km: KernelMessage, body: unknown): Promise<void> {
    if (body === 'Reset') {
      this.reply(km, { Reset: this.reset(km) });
      return;
    }
    const [key, args] = body && typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 1 ? Object.entries(body)[0] : ['', undefined];
    const a = (args ?? {}) as Record<string, unknown>;
    if (key === 'NodeInfo' && typeof a.name === 'string' && isU64(a.block)) {
      this.reply(km, { NodeInfo: await this.nodeInfo(a.name) });
      return;
    }
    if (key === 'NamehashToName' && typeof a.hash === 'string' && isU64(a.block)) {
      this.reply(km, { Name: this.names.get(a.hash) ?? null });
      return;
    }
    if (key === 'GetState' && isU64(a.block)) {
      this.reply(km, {
        GetState: {
          chain_id: CHAIN_ID,
          contract_address: Array.from(hexToBytes(HYPERMAP)),
          names: [...this.names],
          nodes: [...this.nodes].map(([name, r]) => [name, witRecord(r)]),
          last_block: Number(this.lastBlock),
        },
      });
      return;
    }
    // The real indexer fails to parse it and restarts (the caller times out); we say so at once.
    this.kernel.log.warning(
      `hns-indexer: ${processIdToString(km.source.process)} sent a request that is not an IndexerRequest; send {"NodeInfo":{"name","block"}}, {"NamehashToName":{"hash","block"}}, {"GetState":{"block"}} or "Reset"`,
    );
    this.reply(km, { Err: 'MalformedRequest' });
  }

  /**
   * lib.rs: only a process of our own package attaching our root capability may reset. The real
   * one then clears its saved checkpoint and starts over from the state it holds in memory: it
   * sends every node to net again and reads the chain from its last block. We keep no
   * checkpoint, so the same two steps are the whole of it.
   */
  private reset(km: KernelMessage): unknown {
    const attached = km.message.tag === 'request' ? km.message.val.capabilities : [];
    const root: Capability = { issuer: { node: this.kernel.our, process: this.id }, params: '{"root":true}' };
    const src = km.source.process;
    if (src.packageName !== this.id.packageName || src.publisherNode !== this.id.publisherNode || !attached.some((c) => capabilityKey(c) === capabilityKey(root))) {
      return { Err: 'NoRootCap' };
    }
    this.kernel.log.info('hns-indexer: resetting state');
    this.tell(encodeNetAction({ kind: 'HnsBatchUpdate', updates: this.records().map((r) => this.update(r)) }));
    void this.catchUp().catch((e) => this.kernel.log.warning(`hns-indexer: re-reading Hypermap after a reset: ${(e as Error).message}`));
    return 'Success';
  }

  private async catchUp(): Promise<void> {
    const r = (await this.eth({
      Request: { chain_id: CHAIN_ID, method: 'eth_getLogs', params: [{ address: HYPERMAP, topics: [[MINT_TOPIC, NOTE_TOPIC]], fromBlock: `0x${this.lastBlock.toString(16)}`, toBlock: 'latest' }] },
    })) as { Response: RpcLog[] };
    for (const log of r.Response) this.ingest(log);
    this.handlePendingNotes();
  }

  private async nodeInfo(name: string): Promise<unknown> {
    const known = this.nodes.get(name);
    if (known) return witRecord(known);
    // lib.rs handle_node_info_request: not indexed (missed, or not yet seen) -> ask the chain.
    const found = await this.fetchNode(name).catch((e) => {
      this.kernel.log.debug(`hns-indexer: looking ${name} up on chain: ${(e as Error).message}`);
      return undefined;
    });
    if (!found) return null;
    this.nodes.set(name, found);
    this.names.set(namehash(name), name);
    this.tell(encodeHnsUpdate(this.update(found)));
    return witRecord(found);
  }

  /** `Hypermap.get` of the name and each of its networking notes (lib.rs fetch_node). */
  private async fetchNode(name: string): Promise<NodeRecord | undefined> {
    await this.get(name); // the real one gives up only when the call itself fails
    const key = await this.get(`~net-key.${name}`);
    if (!key) return undefined;
    const rec: NodeRecord = { name, public_key: Buffer.from(key).toString('hex'), ips: [], ports: {}, routers: [] };
    const ip = await this.get(`~ip.${name}`).catch(() => undefined);
    const decodedIp = ip && decodeIp(ip);
    if (decodedIp) rec.ips = [decodedIp];
    for (const proto of ['tcp', 'ws']) {
      const p = await this.get(`~${proto}-port.${name}`).catch(() => undefined);
      if (p?.length === 2) rec.ports[proto] = (p[0] << 8) | p[1];
    }
    const routers = await this.get(`~routers.${name}`).catch(() => undefined);
    if (routers) rec.routers = this.decodeRouters(routers) ?? [];
    return rec;
  }

  /** The data of a Hypermap entry, undefined when it holds none (lib's `Option<Bytes>`). */
  private async get(path: string): Promise<Uint8Array | undefined> {
    const data = encodeFunctionData({ abi: hypermapAbi, functionName: 'get', args: [namehash(path)] });
    const r = (await this.eth({ Request: { chain_id: CHAIN_ID, method: 'eth_call', params: [{ to: HYPERMAP, data }, 'latest'] } })) as { Response: Hex };
    const [, , bytes] = decodeFunctionResult({ abi: hypermapAbi, functionName: 'get', data: r.Response });
    return bytes === '0x' ? undefined : hexToBytes(bytes);
  }

  private reply(km: KernelMessage, body: unknown): void {
    if (km.message.tag === 'request' && km.message.val.expectsResponse !== undefined) this.kernel.respond(this.id, km, jsonBytes(body));
  }

  private advance(block: bigint): void {
    if (block > this.lastBlock) this.lastBlock = block;
  }

  private ingest(log: RpcLog): void {
    // Subscribing before reading what is on chain means a log may come both ways.
    const key = `${log.transactionHash}:${log.logIndex}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    const block = BigInt(log.blockNumber);
    this.advance(block);
    let ev: ReturnType<typeof decodeEventLog<typeof hypermapAbi>>;
    try {
      ev = decodeEventLog({ abi: hypermapAbi, topics: log.topics, data: log.data });
    } catch {
      return; // not ours to read
    }
    if (ev.eventName === 'Mint') this.addMint(ev.args.parenthash, ev.args.childhash, hexToString(ev.args.label));
    else if (ev.eventName === 'Note') this.addNote({ parentHash: ev.args.parenthash, label: hexToString(ev.args.label), data: hexToBytes(ev.args.data), attempt: 0 }, block);
  }

  private addMint(parentHash: string, childHash: string, label: string): void {
    if (!/^[a-z0-9-]+$/.test(label)) {
      this.kernel.log.debug(`hns-indexer: skipping invalid name: ${label}`);
      return;
    }
    // lib.rs add_mint: under an unknown parent (the root, for a TLZ) the label is the whole name.
    const parent = this.names.get(parentHash);
    const name = parent === undefined ? label : `${label}.${parent}`;
    this.names.set(childHash, name);
    this.nodes.set(name, { name, public_key: '', ips: [], ports: {}, routers: [] });
  }

  private park(note: PendingNote, block: bigint): void {
    const at = this.pendingNotes.get(block);
    if (at) at.push(note);
    else this.pendingNotes.set(block, [note]);
  }

  private addNote(note: PendingNote, block: bigint): void {
    const { label, data } = note;
    if (!NET_NOTES.has(label)) return;
    const parent = this.names.get(note.parentHash);
    if (parent === undefined) {
      this.park(note, block);
      return;
    }
    const rec = this.nodes.get(parent);
    switch (label) {
      case '~ws-port':
      case '~tcp-port': {
        if (data.length !== 2) return;
        if (rec) {
          rec.ports[label === '~ws-port' ? 'ws' : 'tcp'] = (data[0] << 8) | data[1];
          rec.routers = []; // a port: direct
        }
        break;
      }
      case '~net-key':
        if (data.length !== 32) return;
        if (rec) rec.public_key = Buffer.from(data).toString('hex');
        break;
      case '~ip': {
        const ip = decodeIp(data);
        if (!ip) return;
        if (rec) {
          rec.ips = [ip];
          rec.routers = []; // an ip: direct
        }
        break;
      }
      case '~routers': {
        const routers = this.decodeRouters(data);
        if (!routers) {
          // A router not minted yet: try again once later blocks are in (lib.rs pending_notes).
          this.park(note, block);
          return;
        }
        if (rec) {
          rec.routers = routers;
          rec.ports = {}; // routers: indirect
          rec.ips = [];
        }
        break;
      }
    }
    if (rec) this.publish(rec);
  }

  /** Router namehashes to names; undefined when one is not known yet (lib.rs decode_routers). */
  private decodeRouters(data: Uint8Array): string[] | undefined {
    if (data.length % 32 !== 0) {
      this.kernel.log.warning(`hns-indexer: router data of ${data.length} bytes is not a list of 32-byte hashes`);
      return [];
    }
    const routers: string[] = [];
    for (let i = 0; i < data.length; i += 32) {
      const hash = `0x${Buffer.from(data.subarray(i, i + 32)).toString('hex')}`;
      const name = this.names.get(hash);
      if (name === undefined) {
        this.kernel.log.debug(`hns-indexer: no name found for router hash ${hash}`);
        return undefined;
      }
      routers.push(name);
    }
    return routers;
  }

  /** Retry parked notes from blocks before the last one seen; keep ticking while any remain. */
  private handlePendingNotes(): void {
    if (this.pendingNotes.size === 0) return;
    const parked = this.pendingNotes;
    this.pendingNotes = new Map();
    for (const [block, notes] of [...parked].sort((x, y) => (x[0] < y[0] ? -1 : 1))) {
      if (block >= this.lastBlock) {
        for (const n of notes) this.park(n, block);
        continue;
      }
      for (const n of notes) {
        if (n.attempt >= MAX_PENDING_ATTEMPTS) {
          this.kernel.log.warning(`hns-indexer: pending note exceeded max attempts; dropping: ${n.parentHash}, ${n.label}`);
          continue;
        }
        this.addNote({ ...n, attempt: n.attempt + 1 }, block);
      }
    }
    if (this.pendingNotes.size > 0 && !this.tick && !this.stopped) {
      this.tick = setTimeout(() => {
        this.tick = undefined;
        this.refreshBlock()
          .catch(() => {})
          .then(() => {
            if (!this.stopped) this.handlePendingNotes();
          });
      }, DELAY_MS);
      this.tick.unref?.();
    }
  }

  private update(rec: NodeRecord) {
    return { name: rec.name, publicKey: rec.public_key, ips: rec.ips, ports: sortedPorts(rec.ports), routers: rec.routers };
  }

  /** Only a record with a key and a way in (ip and a port, or routers) goes to net. */
  private publish(rec: NodeRecord): void {
    const complete = rec.public_key !== '' && ((rec.ips.length > 0 && Object.keys(rec.ports).length > 0) || rec.routers.length > 0);
    if (complete) this.tell(encodeHnsUpdate(this.update(rec)));
  }

  private tell(body: Uint8Array): void {
    try {
      this.kernel.tell(this.id, { node: this.kernel.our, process: this.net }, body);
    } catch (e) {
      this.kernel.log.debug(`hns-indexer: could not tell net: ${(e as Error).message}`);
    }
  }
}

function decodeIp(b: Uint8Array): string | undefined {
  if (b.length === 4) return [...b].join('.');
  if (b.length === 16) {
    // As Rust's Ipv6Addr displays it (RFC 5952: the longest run of zero groups shortened).
    const groups: number[] = [];
    for (let i = 0; i < 16; i += 2) groups.push((b[i] << 8) | b[i + 1]);
    let best = -1;
    let bestLen = 1;
    for (let i = 0; i < 8; ) {
      let j = i;
      while (j < 8 && groups[j] === 0) j++;
      if (j - i > bestLen) {
        best = i;
        bestLen = j - i;
      }
      i = j === i ? i + 1 : j;
    }
    const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(':');
    if (best < 0) return hex(groups);
    return `${hex(groups.slice(0, best))}::${hex(groups.slice(best + bestLen))}`;
  }
  return undefined;
}
