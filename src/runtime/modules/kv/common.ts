// What kv:distro:sys and sqlite:distro:sys share (book: KV API, SQLite API): the request
// envelope `{"package_id", "db", "action"}`, the read/write capabilities they issue, the
// GrantCapabilities that hands them to a db's opener, and one-at-a-time serving.

import type { KernelApi } from '../../kernel/api.js';
import {
  type Address,
  type Capability,
  fromUtf8,
  type KernelMessage,
  type PackageId,
  type ProcessId,
  processIdToString,
  systemProcess,
} from '../../../core/types.js';

/** PackageId as serde writes it inside these modules' JSON. */
export interface PackageIdJson {
  package_name: string;
  publisher_node: string;
}

export interface DbEnvelope {
  pkg: PackageId;
  db: string;
  action: unknown;
}

/** Thrown while serving; `json` is the error variant answered as `{"Err": json}`. */
export class DbFailure extends Error {
  constructor(readonly json: unknown) {
    super(typeof json === 'string' ? json : JSON.stringify(json));
  }
}

export function packageIdJson(p: PackageId): PackageIdJson {
  return { package_name: p.packageName, publisher_node: p.publisherNode };
}

/** Accept `{"package_name","publisher_node"}` (serde) or `"pkg:pub"`. */
function parsePackageId(v: unknown): PackageId | undefined {
  if (typeof v === 'string') {
    const [packageName, publisherNode, ...rest] = v.split(':');
    return packageName && publisherNode && rest.length === 0 ? { packageName, publisherNode } : undefined;
  }
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.package_name === 'string' && typeof o.publisher_node === 'string' && o.package_name && o.publisher_node)
      return { packageName: o.package_name, publisherNode: o.publisher_node };
  }
  return undefined;
}

/** A db name becomes a folder or file name: no separators, no dot-only names. */
export function isSafeDbName(db: string): boolean {
  return db.length > 0 && db.length <= 255 && !/[/\\\0]/.test(db) && db !== '.' && db !== '..';
}

/** Parse the envelope; undefined if it is not one (the caller answers MalformedRequest). */
export function parseEnvelope(body: Uint8Array): DbEnvelope | undefined {
  let v: unknown;
  try {
    v = JSON.parse(fromUtf8(body));
  } catch {
    return undefined;
  }
  if (!v || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  const pkg = parsePackageId(o.package_id);
  if (!pkg || typeof o.db !== 'string' || !isSafeDbName(o.db) || o.action === undefined) return undefined;
  return { pkg, db: o.db, action: o.action };
}

/** `Name` for a unit variant or `{"Name": payload}`; undefined otherwise. */
export function variant(action: unknown): [string, unknown] | undefined {
  if (typeof action === 'string') return [action, undefined];
  if (action && typeof action === 'object' && !Array.isArray(action)) {
    const entries = Object.entries(action as Record<string, unknown>);
    if (entries.length === 1) return entries[0] as [string, unknown];
  }
  return undefined;
}

/** An optional u64 transaction id (`null`/absent → undefined); throws on anything else. */
export function optionalTxId(v: unknown, malformed: () => DbFailure): number | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
  throw malformed();
}

/** The `{"Commit": {"tx_id": n}}` argument of kv and sqlite: the id is required. */
export function commitTxId(arg: unknown, malformed: () => DbFailure): number {
  const a = arg as { tx_id?: unknown } | undefined;
  if (!a || typeof a !== 'object') throw malformed();
  const txId = optionalTxId(a.tx_id, malformed);
  if (txId === undefined) throw malformed();
  return txId;
}

export const dbKeyString = (pkg: PackageId, db: string) => `${pkg.packageName}:${pkg.publisherNode}/${db}`;

/** Capability params, exactly as `KvCapabilityParams` / `SqliteCapabilityParams` serialize. */
export function dbCapParams(kind: 'read' | 'write', pkg: PackageId, db: string): string {
  return JSON.stringify({ kind, db_key: [packageIdJson(pkg), db] });
}

export class DbCaps {
  /** Capability params by kind and db: built once, checked on every request. */
  private readonly params = new Map<string, string>();

  constructor(
    private readonly kernel: KernelApi,
    private readonly module: ProcessId,
  ) {}

  private issuer(): Address {
    return { node: this.kernel.our, process: this.module };
  }

  cap(kind: 'read' | 'write', pkg: PackageId, db: string): Capability {
    const key = `${kind} ${dbKeyString(pkg, db)}`;
    let params = this.params.get(key);
    if (params === undefined) {
      if (this.params.size > 4096) this.params.clear();
      params = dbCapParams(kind, pkg, db);
      this.params.set(key, params);
    }
    return { issuer: this.issuer(), params };
  }

  holds(source: ProcessId, kind: 'read' | 'write', pkg: PackageId, db: string): boolean {
    // Runtime modules act for the node.
    if (source.packageName === 'distro' && source.publisherNode === 'sys') return true;
    return this.kernel.hasCapability(source, this.cap(kind, pkg, db));
  }

  /** Give the opener read and write through the kernel, as Hyperdrive does (GrantCapabilities). */
  grantOpener(target: ProcessId, pkg: PackageId, db: string): void {
    const issuer = `${this.kernel.our}@${processIdToString(this.module)}`;
    const body = {
      GrantCapabilities: {
        target: processIdToString(target),
        capabilities: (['read', 'write'] as const).map((k) => ({ issuer, params: dbCapParams(k, pkg, db) })),
      },
    };
    this.kernel.tell(this.module, { node: this.kernel.our, process: systemProcess('kernel') }, JSON.stringify(body));
  }
}

export const samePackage = (source: ProcessId, pkg: PackageId) =>
  source.packageName === pkg.packageName && source.publisherNode === pkg.publisherNode;

/** A random u64 that stays exact in JSON numbers (≤ 2^53-1). */
export function newTxId(): number {
  return Math.floor(Math.random() * Number.MAX_SAFE_INTEGER);
}

/** What serving a request produced: the answer's body and blob. */
export interface Served {
  body: unknown;
  blob?: Uint8Array;
}

/**
 * Serve requests from our node one at a time and answer `{"Err": ...}` on failure. A caller that
 * does not wait for a Response gets none.
 */
export function serialServer(
  kernel: () => KernelApi,
  id: ProcessId,
  perform: (km: KernelMessage) => Promise<Served>,
): ((km: KernelMessage) => Promise<void>) & { idle(): Promise<void> } {
  let queue: Promise<void> = Promise.resolve();
  const serve = (km: KernelMessage): Promise<void> => {
    const k = kernel();
    if (km.message.tag !== 'request' || km.source.node !== k.our) return Promise.resolve();
    const wants = km.message.val.expectsResponse !== undefined || km.rsvp !== undefined;
    const next = queue.then(async () => {
      let out: Served;
      try {
        out = await perform(km);
      } catch (e) {
        const json = e instanceof DbFailure ? e.json : { IOError: e instanceof Error ? e.message : String(e) };
        k.log.debug(`${processIdToString(id)}: request from ${processIdToString(km.source.process)} failed: ${JSON.stringify(json)}`);
        out = { body: { Err: json } };
      }
      if (wants) k.respond(id, km, JSON.stringify(out.body), out.blob ? { bytes: out.blob } : undefined);
    });
    queue = next.catch(() => {});
    return next;
  };
  /** Resolves once every request received so far is served. */
  const idle = async (): Promise<void> => {
    let seen: Promise<void>;
    do {
      seen = queue;
      await seen;
    } while (seen !== queue);
  };
  return Object.assign(serve, { idle });
}
