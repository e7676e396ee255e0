// sqlite:distro:sys — SQLite databases on better-sqlite3 in WAL mode, one file per db at
// `<home>/sqlite/<package>:<publisher>/<db>.sqlite`, answering as Hyperdrive's sqlite
// (hyperdrive/src/sqlite.rs, lib/src/sqlite.rs). Same envelope and capabilities as kv; every
// request opens (creating) the db after the capability check. A statement's first word must be
// one of Hyperdrive's read (Query) or write (Write) keywords, and a request runs exactly one
// statement. Parameters are a JSON array in the request blob, converted as Hyperdrive does (a
// string that is valid standard base64 binds as a BLOB). Query answers "Read" with the rows as
// JSON in the blob. Transactions are global: a Write with an unknown tx id starts that tx, and
// Commit runs its statements on its own db inside one SQLite transaction. Unlike Hyperdrive,
// nothing a process runs reaches outside its own database file (guard.ts), and Query and Write
// need the db's read and write capabilities.

import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { parseJsonExact, stringifyJsonExact } from '../../../core/json.js';
import { fromUtf8, type KernelMessage, type PackageId, type ProcessId, systemProcess } from '../../../core/types.js';
import type { KernelApi, NativeProcess } from '../../kernel/api.js';
import { FDS_PER_HANDLE, FdLimiter } from '../fd-manager/limiter.js';
import { commitTxId, DbCaps, DbFailure, dbKeyString, newTxId, optionalTxId, parseEnvelope, serialServer, structFields, type TxKey, txIdJson, variant, checkDbAccess } from '../kv/common.js';
import { osErrorText } from '../os-error.js';
import { refusal } from './guard.js';

export const SQLITE_PROCESS: ProcessId = systemProcess('sqlite');

// The statement's first word decides whether it is a read or a write, as in Hyperdrive.
const READ_KEYWORDS = new Set(['ANALYZE', 'ATTACH', 'BEGIN', 'EXPLAIN', 'PRAGMA', 'SELECT', 'VALUES', 'WITH']);
const WRITE_KEYWORDS = new Set([
  'ALTER',
  'ANALYZE',
  'COMMIT',
  'CREATE',
  'DELETE',
  'DETACH',
  'DROP',
  'END',
  'INSERT',
  'REINDEX',
  'RELEASE',
  'RENAME',
  'REPLACE',
  'ROLLBACK',
  'SAVEPOINT',
  'UPDATE',
  'VACUUM',
]);

type SqlParam = null | number | bigint | string | Buffer;

const malformed = () => new DbFailure('MalformedRequest');
const invalidParams = () => new DbFailure('InvalidParameters');
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

/** Hyperdrive's `split_whitespace().next()`, upper-cased. */
function firstWord(sql: string): string {
  return (sql.trim().split(/\s+/)[0] ?? '').toUpperCase();
}

/** Standard base64 with padding, exactly as the base64 crate's STANDARD engine accepts it (canonical: a round trip). */
export function decodeStandardBase64(s: string): Buffer | undefined {
  if (s.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(s, 'base64');
  return bytes.toString('base64') === s ? bytes : undefined;
}

/** hyperdrive/src/sqlite.rs json_to_sqlite. */
function toParam(v: unknown): SqlParam {
  if (v === null) return null;
  if (typeof v === 'boolean') return v ? 1n : 0n;
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : v;
  // Outside i64 serde's as_i64 fails and the number binds as a REAL.
  if (typeof v === 'bigint') return v >= I64_MIN && v <= I64_MAX ? v : Number(v);
  // A string that decodes as base64 binds as a BLOB; any other string as TEXT.
  if (typeof v === 'string') return decodeStandardBase64(v) ?? v;
  throw invalidParams();
}

function parseParams(blob: Uint8Array | undefined): SqlParam[] {
  if (!blob) return [];
  let v: unknown;
  try {
    v = parseJsonExact(fromUtf8(blob));
  } catch {
    throw invalidParams();
  }
  if (!Array.isArray(v)) throw invalidParams();
  return v.map(toParam);
}

/** A row value as JSON: integers as numbers (bigint past 2^53, written exactly), blobs as base64 (as Hyperdrive does). */
function toJson(v: unknown): unknown {
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  if (Buffer.isBuffer(v)) return v.toString('base64');
  if (typeof v === 'number' && !Number.isFinite(v)) return null;
  return v;
}

export interface SqliteModule extends NativeProcess {
  openCount(): number;
  /** The fd-manager side: open handles, the descriptors they hold, the share. */
  fdStats(): ReturnType<FdLimiter['stats']>;
}

type Write = { sql: string; params: SqlParam[] };

export function createSqlite(opts: { home: string }): SqliteModule {
  const root = join(opts.home, 'sqlite');
  const open = new Map<string, Database.Database>();
  /** Every open transaction, whatever its db (Hyperdrive keeps one table). */
  const txs = new Map<TxKey, Write[]>();
  let kernel!: KernelApi;
  let caps!: DbCaps;
  // Each open database in WAL mode holds 3 descriptors, counted against fd-manager's share.
  const limiter = new FdLimiter(
    () => kernel,
    SQLITE_PROCESS,
    async (key) => {
      const h = open.get(key);
      open.delete(key);
      h?.close();
    },
    FDS_PER_HANDLE.sqliteWal,
  );

  const fileOf = (pkg: PackageId, db: string) => join(root, `${pkg.packageName}:${pkg.publisherNode}`, `${db}.sqlite`);

  async function openDb(pkg: PackageId, db: string): Promise<Database.Database> {
    const key = dbKeyString(pkg, db);
    const have = open.get(key);
    if (have) {
      limiter.touch(key);
      return have;
    }
    await mkdir(join(root, `${pkg.packageName}:${pkg.publisherNode}`), { recursive: true });
    await limiter.admit(key);
    try {
      const d = new Database(fileOf(pkg, db));
      d.pragma('journal_mode = WAL');
      // In WAL mode NORMAL never corrupts and loses nothing when the node crashes (only on an OS
      // crash or power loss, the last commits); FULL would fsync every write.
      d.pragma('synchronous = NORMAL');
      d.defaultSafeIntegers(true);
      open.set(key, d);
      return d;
    } catch (e) {
      limiter.forget(key);
      throw new DbFailure({ RusqliteError: (e as Error).message });
    }
  }

  async function removeDb(pkg: PackageId, db: string): Promise<void> {
    const key = dbKeyString(pkg, db);
    open.get(key)?.close();
    open.delete(key);
    limiter.forget(key);
    const file = fileOf(pkg, db);
    // Hyperdrive's remove_dir_all fails on a db that was never there.
    if (!existsSync(file)) throw new DbFailure({ IOError: osErrorText('ENOENT') });
    await Promise.all([file, `${file}-wal`, `${file}-shm`, `${file}-journal`].map((f) => rm(f, { force: true })));
  }

  async function perform(km: KernelMessage): Promise<{ body: unknown; blob?: Uint8Array }> {
    if (km.message.tag !== 'request') throw malformed();
    const env = parseEnvelope(km.message.val.body);
    const v = env && variant(env.action);
    if (!env || !v) throw malformed();
    const { pkg, db } = env;
    const source = km.source.process;
    const [name, arg] = v;

    let action:
      | { name: 'Open' | 'RemoveDb' | 'BeginTx' }
      | { name: 'Query'; sql: string }
      | { name: 'Write'; sql: string; txId: TxKey | undefined }
      | { name: 'Commit'; txId: TxKey };
    switch (name) {
      case 'Open':
      case 'RemoveDb':
      case 'BeginTx':
        if (arg !== undefined) throw malformed();
        action = { name };
        break;
      case 'Query':
        if (typeof arg !== 'string') throw malformed();
        action = { name, sql: arg };
        break;
      case 'Write': {
        const f = structFields(arg, ['statement', 'tx_id']);
        if (!f || typeof f.statement !== 'string') throw malformed();
        action = { name, sql: f.statement, txId: optionalTxId(f.tx_id, malformed) };
        break;
      }
      case 'Commit':
        action = { name, txId: commitTxId(arg, malformed) };
        break;
      default:
        throw malformed();
    }

    // Hyperdrive's sqlite.rs asks for the read/write capability but lets the request through
    // whatever the answer; here it counts.
    checkDbAccess(caps, source, pkg, db, action.name, 'Query');
    await limiter.enforce(); // the share may have shrunk since the last request
    if (action.name === 'Open') caps.grantOpener(source, pkg, db);
    if (action.name === 'RemoveDb') await removeDb(pkg, db);
    // "always open to ensure db exists" (sqlite.rs): a removed db comes back empty.
    const d = await openDb(pkg, db);

    switch (action.name) {
      case 'Open':
      case 'RemoveDb':
        return { body: 'Ok' };
      case 'Query': {
        if (!READ_KEYWORDS.has(firstWord(action.sql))) throw new DbFailure('NotAReadKeyword');
        const params = parseParams(km.lazyLoadBlob?.bytes);
        const st = run(() => prepared(d, action.sql));
        // rusqlite's query steps any statement; one that returns no rows gives none.
        const rows = run(() => {
          if (st.reader) return st.all(...params) as Array<Record<string, unknown>>;
          st.run(...params);
          return [];
        });
        const out = rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, x]) => [k, toJson(x)])));
        return { body: 'Read', blob: new TextEncoder().encode(stringifyJsonExact(out)) };
      }
      case 'Write': {
        if (!WRITE_KEYWORDS.has(firstWord(action.sql))) throw new DbFailure('NotAWriteKeyword');
        const params = parseParams(km.lazyLoadBlob?.bytes);
        if (action.txId !== undefined) {
          // An unknown id starts that transaction (sqlite.rs: `.entry(tx_id).or_default()`).
          const tx = txs.get(action.txId) ?? [];
          txs.set(action.txId, tx);
          tx.push({ sql: action.sql, params });
        } else run(() => prepared(d, action.sql).run(...params));
        return { body: 'Ok' };
      }
      case 'BeginTx': {
        const id = newTxId();
        txs.set(id, []);
        return { body: { BeginTx: { tx_id: txIdJson(id) } } };
      }
      case 'Commit': {
        const writes = txs.get(action.txId);
        if (!writes) throw new DbFailure({ NoTx: txIdJson(action.txId) });
        txs.delete(action.txId);
        run(() =>
          d.transaction(() => {
            for (const w of writes) prepared(d, w.sql).run(...w.params);
          })(),
        );
        return { body: 'Ok' };
      }
    }
  }

  const serve = serialServer(() => kernel, SQLITE_PROCESS, perform);
  const handle = (km: KernelMessage) => (limiter.takeLimit(km) ? undefined : serve(km));
  return {
    id: SQLITE_PROCESS,
    async start(k) {
      kernel = k;
      caps = new DbCaps(k, SQLITE_PROCESS);
      await mkdir(root, { recursive: true });
      limiter.start();
    },
    handle,
    openCount: () => open.size,
    fdStats: () => limiter.stats(),
    async stop() {
      await serve.idle(); // requests already received finish first
      txs.clear();
      for (const d of open.values()) d.close();
      open.clear();
    },
  };
}

/** A SQLite or better-sqlite3 error as rusqlite's would read: RusqliteError(text). */
function run<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof DbFailure) throw e;
    const msg = (e as Error).message;
    // rusqlite refuses a string holding more than one statement with this text.
    throw new DbFailure({ RusqliteError: msg.includes('more than one statement') ? 'Multiple statements provided' : msg });
  }
}

/** Prepared statements per connection, reused across requests (preparing costs as much as a small insert). */
const statements = new WeakMap<Database.Database, Map<string, Database.Statement>>();
const MAX_STATEMENTS_PER_DB = 128;

/** The one statement `sql` holds, prepared; refused when it would reach outside the database (guard.ts). */
function prepared(d: Database.Database, sql: string): Database.Statement {
  let cache = statements.get(d);
  if (!cache) {
    cache = new Map();
    statements.set(d, cache);
  }
  const have = cache.get(sql);
  if (have) return have;
  const why = refusal(sql);
  if (why) throw new DbFailure({ RusqliteError: `not authorized: ${why}` });
  const st = d.prepare(sql); // exactly one statement, or it throws
  if (cache.size >= MAX_STATEMENTS_PER_DB) cache.delete(cache.keys().next().value as string);
  cache.set(sql, st);
  return st;
}
