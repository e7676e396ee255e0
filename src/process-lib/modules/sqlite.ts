// Client for `sqlite:distro:sys` (book: SQLite API). Statements go in the body; their parameters
// (a JSON array) and query results (a JSON array of row objects) travel in the blob.

import type { PackageId } from '../../core/types.js';
import { SqliteError } from '../errors.js';
import { packageIdJson, packageIdToString } from '../ids.js';
import { jsonBody, parseJson } from '../json.js';
import { callModule, describeVariant, expectUnit, expectVariant } from './call.js';

export type SqlParam = null | boolean | number | bigint | string | Uint8Array;
export type Row = Record<string, unknown>;

export type SqliteAction =
  | 'Open'
  | 'RemoveDb'
  | { Write: { statement: string; tx_id: number | null } }
  | { Query: string }
  | 'BeginTx'
  | { Commit: { tx_id: number } };

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
            ? ': the database belongs to another package, which must grant us its capability'
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
      blob: params === undefined ? undefined : { bytes: jsonBody(params), mime: undefined },
    });
  }

  /** Run a SELECT; rows come back as objects keyed by column name. */
  read(query: string, params: SqlParam[] = []): Row[] {
    const { value, message } = this.call({ Query: query }, params);
    expectUnit('sqlite', value, 'Read');
    const blob = message.blob();
    return blob === undefined ? [] : parseJson<Row[]>(blob.bytes);
  }

  /** Run INSERT/UPDATE/DELETE/CREATE..., optionally inside a transaction. */
  write(statement: string, params: SqlParam[] = [], txId?: number): void {
    expectUnit('sqlite', this.call({ Write: { statement, tx_id: txId ?? null } }, params).value, 'Ok');
  }

  beginTx(): number {
    return expectVariant<{ tx_id: number }>('sqlite', this.call('BeginTx').value, 'BeginTx').tx_id;
  }

  commitTx(txId: number): void {
    expectUnit('sqlite', this.call({ Commit: { tx_id: txId } }).value, 'Ok');
  }
}
