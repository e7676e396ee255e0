// What kv:distro:sys and sqlite:distro:sys share, as Hyperdrive's kv.rs and sqlite.rs have it:
// the request envelope `{"package_id": {"package_name", "publisher_node"}, "db", "action"}`, the
// read/write capabilities they issue, the GrantCapabilities that hands them to a db's opener,
// transaction ids (random u64s, one table for every db) and one-at-a-time serving.

import { isU64, parseJsonExact, stringifyJsonExact } from '../../../core/json.js';
import {
  type Address,
  type Capability,
  fromUtf8,
  type KernelMessage,
  type PackageId,
  type ProcessId,
  processIdToString,
  randomU64,
  systemProcess,
} from '../../../core/types.js';
import type { KernelApi } from '../../kernel/api.js';

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
    super(typeof json === 'string' ? json : stringifyJsonExact(json));
  }
}

export function packageIdJson(p: PackageId): PackageIdJson {
  return { package_name: p.packageName, publisher_node: p.publisherNode };
}

/** serde's PackageId: `{"package_name","publisher_node"}` (or, as serde reads any struct, `[name, publisher]`). */
function parsePackageId(v: unknown): PackageId | undefined {
  if (Array.isArray(v)) {
    if (v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string') return { packageName: v[0], publisherNode: v[1] };
    return undefined;
  }
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.package_name === 'string' && typeof o.publisher_node === 'string')
      return { packageName: o.package_name, publisherNode: o.publisher_node };
  }
  return undefined;
}

const UNSAFE_NAME = /[/\\\0]/;

function unsafeName(s: string): boolean {
  return s === '' || s === '.' || s === '..' || s.length > 255 || UNSAFE_NAME.test(s);
}

/**
 * Why a db key may not become a folder name, or undefined. Hyperdrive joins the names onto its
 * directory unchecked (a db named "../../x" lands outside it); here they must be plain names.
 */
export function unsafeDbKey(pkg: PackageId, db: string): string | undefined {
  for (const [what, name] of [
    ['package_name', pkg.packageName],
    ['publisher_node', pkg.publisherNode],
    ['db', db],
  ] as const)
    if (unsafeName(name))
      return `${what} ${JSON.stringify(name)} cannot name a folder: it must be 1-255 characters with no '/', '\\' or NUL, and not '.' or '..'`;
  return undefined;
}

/** Parse the envelope as serde reads KvRequest / SqliteRequest; undefined if it is not one (MalformedRequest). */
export function parseEnvelope(body: Uint8Array): DbEnvelope | undefined {
  let v: unknown;
  try {
    v = parseJsonExact(fromUtf8(body));
  } catch {
    return undefined;
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  const pkg = parsePackageId(o.package_id);
  if (!pkg || typeof o.db !== 'string' || o.action === undefined) return undefined;
  return { pkg, db: o.db, action: o.action };
}

/** `Name` for a unit variant (also `{"Name": null}`, which serde reads too) or `{"Name": payload}`. */
export function variant(action: unknown): [string, unknown] | undefined {
  if (typeof action === 'string') return [action, undefined];
  if (action && typeof action === 'object' && !Array.isArray(action)) {
    const entries = Object.entries(action as Record<string, unknown>);
    if (entries.length === 1) return [entries[0][0], entries[0][1] === null ? undefined : entries[0][1]];
  }
  return undefined;
}

/** A struct variant's fields, by name or (as serde also reads them) by position. */
export function structFields(v: unknown, names: string[]): Record<string, unknown> | undefined {
  if (Array.isArray(v)) return v.length <= names.length ? Object.fromEntries(names.map((n, i) => [n, v[i]])) : undefined;
  if (v && typeof v === 'object') return v as Record<string, unknown>;
  return undefined;
}

/** A transaction id: a u64 (bigint above 2^53) kept as its decimal text, so number and bigint forms meet. */
export type TxKey = string;

/** An `Option<u64>` tx id (`null`/absent -> undefined); throws `malformed()` on anything else. */
export function optionalTxId(v: unknown, malformed: () => DbFailure): TxKey | undefined {
  if (v === null || v === undefined) return undefined;
  if (isU64(v)) return String(v);
  throw malformed();
}

/** The `{"Commit": {"tx_id": n}}` argument of kv and sqlite: the id is required. */
export function commitTxId(arg: unknown, malformed: () => DbFailure): TxKey {
  const txId = optionalTxId(structFields(arg, ['tx_id'])?.tx_id, malformed);
  if (txId === undefined) throw malformed();
  return txId;
}

/** A tx id as it goes back in JSON: a number while exact, else a bigint (written bare). */
export function txIdJson(id: TxKey): number | bigint {
  const n = Number(id);
  return Number.isSafeInteger(n) ? n : BigInt(id);
}

/** A new transaction id: a random u64, as Hyperdrive's `rand::random::<u64>()`. */
export function newTxId(): TxKey {
  return randomU64().toString();
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

  /** Whether `source` holds the capability; no process is exempt (Hyperdrive's kv exempts none). */
  holds(source: ProcessId, kind: 'read' | 'write', pkg: PackageId, db: string): boolean {
    return this.kernel.hasCapability(source, this.cap(kind, pkg, db));
  }

  /** Give the opener read and write through the kernel, as Hyperdrive does on Open. */
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

/** What serving a request produced: the answer's body and blob. */
export interface Served {
  body: unknown;
  blob?: Uint8Array;
}

/** The mime Hyperdrive puts on every blob its kv and sqlite answer with. */
const OCTET_STREAM = 'application/octet-stream';

/**
 * Serve requests from our node one at a time. A success goes back, with the Request's metadata
 * and any blob as application/octet-stream, to a caller that awaits it (or to the rsvp); an error
 * goes back as `{"Err": ...}` always, even to a caller that awaits nothing, as Hyperdrive's kv and
 * sqlite send it.
 */
export function serialServer(
  kernel: () => KernelApi,
  id: ProcessId,
  perform: (km: KernelMessage) => Promise<Served>,
): ((km: KernelMessage) => Promise<void>) & { idle(): Promise<void> } {
  let queue: Promise<void> = Promise.resolve();
  const name = id.processName;
  const serve = (km: KernelMessage): Promise<void> => {
    const k = kernel();
    if (km.message.tag !== 'request') return Promise.resolve();
    if (km.source.node !== k.our) {
      k.print(1, `${name}: got request from ${km.source.node}, but requests must come from our node ${k.our}`);
      return Promise.resolve();
    }
    const req = km.message.val;
    const next = queue.then(async () => {
      let out: Served;
      try {
        out = await perform(km);
      } catch (e) {
        const json = e instanceof DbFailure ? e.json : { IOError: e instanceof Error ? e.message : String(e) };
        k.log.debug(`${name}: request from ${processIdToString(km.source.process)} failed: ${stringifyJsonExact(json)}`);
        k.respond(id, km, stringifyJsonExact({ Err: json }));
        return;
      }
      if (req.expectsResponse === undefined && km.rsvp === undefined) return;
      k.respond(id, km, stringifyJsonExact(out.body), out.blob ? { mime: OCTET_STREAM, bytes: out.blob } : undefined, req.metadata);
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

/**
 * check_caps (kv.rs, sqlite.rs): Open and RemoveDb only for the db's own package, the rest by the
 * read capability (for `readAction`) or the write one; then the db's name must be safe on disk.
 */
export function checkDbAccess(caps: DbCaps, source: ProcessId, pkg: PackageId, db: string, action: string, readAction: string): void {
  if (action === 'Open' || action === 'RemoveDb') {
    if (!samePackage(source, pkg)) throw new DbFailure('MismatchingPackageId');
  } else if (!caps.holds(source, action === readAction ? 'read' : 'write', pkg, db)) {
    throw new DbFailure(action === readAction ? 'NoReadCap' : 'NoWriteCap');
  }
  const unsafe = unsafeDbKey(pkg, db);
  if (unsafe) throw new DbFailure({ IOError: unsafe });
}
