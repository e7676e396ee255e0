// Client for `sqlite:distro:sys` (book: SQLite API; shapes as Hyperdrive's lib/src/sqlite.rs).
// Statements go in the body, one per request; their parameters (a JSON array) and query results
// (a JSON array of row objects) travel in the blob. As on Hyperdrive, a string parameter that is
// valid standard base64 is stored as a BLOB (so "test" is a 3-byte blob, not text): bytes go as
// Uint8Array (sent as base64), and text that might look like base64 is safer in SQL than as a
// parameter. Blob columns come back as base64 strings. Transaction ids are random u64s, a bigint
// when past 2^53: keep what beginTx returns.

import type { PackageId } from '../../core/types.js';
import { SqliteError } from '../errors.js';
import { packageIdJson, packageIdToString } from '../ids.js';
import { isBytes, jsonBody, parseJson } from '../json.js';
import { callModule, describeVariant, expectUnit, expectVariant } from './call.js';

export type SqlParam = null | boolean | number | bigint | string | Uint8Array;
export type Row = Record<string, unknown>;

/** A u64 transaction id: a number, or a bigint past 2^53 (written exactly either way). */
export type TxId = number | bigint;

export type SqliteAction =
  | 'Open'
  | 'RemoveDb'
  | { Write: { statement: string; tx_id: TxId | null } }
  | { Query: string }
  | 'BeginTx'
  | { Commit: { tx_id: TxId } };

/**
 * SqliteError as Hyperdrive sends it: "NoWriteCap", "NoReadCap", "MismatchingPackageId",
 * "AddCapFailed", "NotAWriteKeyword", "NotAReadKeyword", "InvalidParameters", "MalformedRequest",
 * {"NoTx": id}, {"RusqliteError": text}, {"IOError": text} ({"NoDb": ...} is never sent).
 */
export type SqliteErrorVariant =
  | 'NoWriteCap'
  | 'NoReadCap'
  | 'MismatchingPackageId'
  | 'AddCapFailed'
  | 'NotAWriteKeyword'
  | 'NotAReadKeyword'
  | 'InvalidParameters'
  | 'MalformedRequest'
  | { NoTx: TxId }
  | { NoDb: [{ package_name: string; publisher_node: string }, string] }
  | { RusqliteError: string }
  | { IOError: string };

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Standard base64 with padding (no Buffer inside a component). */
export function toBase64(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63];
    out += i + 1 < bytes.length ? B64[(n >> 6) & 63] : '=';
    out += i + 2 < bytes.length ? B64[n & 63] : '=';
  }
  return out;
}

/** Parameters as sqlite:distro:sys reads them: bytes as base64 (bound as a BLOB). */
function paramsJson(params: SqlParam[]): unknown[] {
  return params.map((p) => (isBytes(p) ? toBase64(p) : p));
}

export interface SqliteRequest {
  package_id: { package_name: string; publisher_node: string };
  db: string;
  action: SqliteAction;
}

/** The JSON body of a SQLite request. */
export function sqliteRequest(pkg: PackageId, db: string, action: SqliteAction): SqliteRequest {
  return { package_id: packageIdJson(pkg), db, action };
}

function sqliteError(pkg: PackageId, db: string) {
  return (err: unknown) => {
    const hint =
      err === 'NotAWriteKeyword'
        ? ': write() takes INSERT/UPDATE/DELETE/CREATE...; use read() for SELECT'
        : err === 'NotAReadKeyword'
          ? ': read() takes SELECT (or WITH ... SELECT); use write() to change data'
          : err === 'NoWriteCap' || err === 'NoReadCap'
            ? ': open the db first (Open grants its opener both), or, for another package, have it grant us the capability'
            : err === 'InvalidParameters'
              ? ': parameters are a JSON array of numbers, strings, booleans, null or bytes (no arrays or objects)'
              : '';
    return new SqliteError('sqlite', err, `${describeVariant(err)} (db ${db} of ${packageIdToString(pkg)})${hint}`);
  };
}

/** Open (creating if needed) database `db` of `pkg` (normally our own package). */
export function open(pkg: PackageId, db: string, timeout = 5): Sqlite {
  const s = new Sqlite(pkg, db, timeout);
  expectUnit('sqlite', s.call('Open').value, 'Ok');
  return s;
}

export function removeDb(pkg: PackageId, db: string, timeout = 5): void {
  expectUnit('sqlite', new Sqlite(pkg, db, timeout).call('RemoveDb').value, 'Ok');
}

export class Sqlite {
  constructor(
    readonly packageId: PackageId,
    readonly db: string,
    readonly timeout = 5,
  ) {}

  /** @internal */
  call(action: SqliteAction, params?: SqlParam[]) {
    return callModule('sqlite', sqliteRequest(this.packageId, this.db, action), sqliteError(this.packageId, this.db), {
      timeout: this.timeout,
      blob: params === undefined ? undefined : { bytes: jsonBody(paramsJson(params)), mime: undefined },
    });
  }

  /** Run a SELECT; rows come back as objects keyed by column name. */
  read(query: string, params: SqlParam[] = []): Row[] {
    const { value, message } = this.call({ Query: query }, params);
    expectUnit('sqlite', value, 'Read');
    const blob = message.blob();
    return blob === undefined ? [] : parseJson<Row[]>(blob.bytes);
  }

  /** Run one INSERT/UPDATE/DELETE/CREATE..., optionally inside a transaction (an unknown id starts one). */
  write(statement: string, params: SqlParam[] = [], txId?: TxId): void {
    expectUnit('sqlite', this.call({ Write: { statement, tx_id: txId ?? null } }, params).value, 'Ok');
  }

  beginTx(): TxId {
    return expectVariant<{ tx_id: TxId }>('sqlite', this.call('BeginTx').value, 'BeginTx').tx_id;
  }

  commitTx(txId: TxId): void {
    expectUnit('sqlite', this.call({ Commit: { tx_id: txId } }).value, 'Ok');
  }
}
