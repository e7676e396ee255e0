// Client for `kv:distro:sys` (book: KV API; shapes as Hyperdrive's lib/src/kv.rs). A database
// belongs to the package that opened it; every action but Open needs its read (Get) or write
// capability, which Open grants the opener and other packages must be granted. Any request from
// a holder opens the db, so none answers NoDb. Keys travel in the body as byte arrays, values in
// the blob. Transaction ids are random u64s, a bigint when past 2^53: keep what beginTx returns.

import type { PackageId } from '../../core/types.js';
import { KvError } from '../errors.js';
import { packageIdJson, packageIdToString } from '../ids.js';
import { jsonBody, parseJson, toBytes } from '../json.js';
import { callModule, describeVariant, expectUnit, expectVariant } from './call.js';

/** A u64 transaction id: a number, or a bigint past 2^53 (written exactly either way). */
export type TxId = number | bigint;

export type KvAction =
  | 'Open'
  | 'RemoveDb'
  | { Set: { key: number[]; tx_id: TxId | null } }
  | { Delete: { key: number[]; tx_id: TxId | null } }
  | { Get: number[] }
  | 'BeginTx'
  | { Commit: { tx_id: TxId } };

/**
 * KvError as Hyperdrive sends it: "KeyNotFound", "NoWriteCap", "NoReadCap", "MismatchingPackageId",
 * "AddCapFailed", "MalformedRequest", {"NoTx": id}, {"RocksDBError": text}, {"IOError": text}
 * ({"NoDb": [package_id, db]} exists in the type but is never sent).
 */
export type KvErrorVariant =
  | 'KeyNotFound'
  | 'NoWriteCap'
  | 'NoReadCap'
  | 'MismatchingPackageId'
  | 'AddCapFailed'
  | 'MalformedRequest'
  | { NoTx: TxId }
  | { NoDb: [{ package_name: string; publisher_node: string }, string] }
  | { RocksDBError: string }
  | { IOError: string };

export interface KvRequest {
  package_id: { package_name: string; publisher_node: string };
  db: string;
  action: KvAction;
}

/** The JSON body of a KV request. */
export function kvRequest(pkg: PackageId, db: string, action: KvAction): KvRequest {
  return { package_id: packageIdJson(pkg), db, action };
}

export type Key = Uint8Array | string;

function keyBytes(key: Key): number[] {
  return Array.from(toBytes(key));
}

function kvError(pkg: PackageId, db: string) {
  return (err: unknown) => {
    const v = describeVariant(err);
    const hint =
      err === 'NoWriteCap' || err === 'NoReadCap'
        ? ': open the db first (Open grants its opener both), or, for another package, have it grant us the capability'
        : err === 'MismatchingPackageId'
          ? ': a process can only open or remove databases of its own package'
          : err === 'MalformedRequest'
            ? ': the request is not a KvRequest (or Set came without its value in the blob)'
            : '';
    return new KvError('kv', err, `${v} (db ${db} of ${packageIdToString(pkg)})${hint}`);
  };
}

/** Open (creating if needed) database `db` of `pkg` (normally our own package). */
export function open(pkg: PackageId, db: string, timeout = 5): Kv {
  const kv = new Kv(pkg, db, timeout);
  expectUnit('kv', kv.call('Open').value, 'Ok');
  return kv;
}

/** Delete a whole database of our package. */
export function removeDb(pkg: PackageId, db: string, timeout = 5): void {
  expectUnit('kv', new Kv(pkg, db, timeout).call('RemoveDb').value, 'Ok');
}

export class Kv {
  constructor(
    readonly packageId: PackageId,
    readonly db: string,
    readonly timeout = 5,
  ) {}

  /** @internal */
  call(action: KvAction, value?: Uint8Array) {
    return callModule('kv', kvRequest(this.packageId, this.db, action), kvError(this.packageId, this.db), {
      timeout: this.timeout,
      blob: value === undefined ? undefined : { bytes: value, mime: undefined },
    });
  }

  /** The value at `key`, or undefined if there is none. */
  get(key: Key): Uint8Array | undefined {
    try {
      const { value, message } = this.call({ Get: keyBytes(key) });
      expectVariant('kv', value, 'Get');
      return message.blob()?.bytes ?? new Uint8Array(0);
    } catch (e) {
      if (e instanceof KvError && e.variant === 'KeyNotFound') return undefined;
      throw e;
    }
  }

  /** The value at `key` parsed as JSON, or undefined. */
  getJson<T = unknown>(key: Key): T | undefined {
    const v = this.get(key);
    return v === undefined ? undefined : parseJson<T>(v);
  }

  set(key: Key, value: Uint8Array | string, txId?: TxId): void {
    expectUnit('kv', this.call({ Set: { key: keyBytes(key), tx_id: txId ?? null } }, toBytes(value)).value, 'Ok');
  }

  setJson(key: Key, value: unknown, txId?: TxId): void {
    this.set(key, jsonBody(value), txId);
  }

  delete(key: Key, txId?: TxId): void {
    expectUnit('kv', this.call({ Delete: { key: keyBytes(key), tx_id: txId ?? null } }).value, 'Ok');
  }

  /** Start a transaction; pass its id to set/delete, then commitTx. */
  beginTx(): TxId {
    return expectVariant<{ tx_id: TxId }>('kv', this.call('BeginTx').value, 'BeginTx').tx_id;
  }

  commitTx(txId: TxId): void {
    expectUnit('kv', this.call({ Commit: { tx_id: txId } }).value, 'Ok');
  }
}
