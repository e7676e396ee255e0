// sqlite:distro:sys — SQLite databases (book: SQLite API; interop §10.1) on better-sqlite3 in
// WAL mode, one file per db at `<home>/sqlite/<package>:<publisher>/<db>.sqlite`. Same envelope
// and capabilities as kv. Parameters are a JSON array in the request blob; Query answers "Read"
// with the rows (objects keyed by column) as JSON in the blob. A transaction collects Writes and
// runs them all inside one SQLite transaction on Commit.

import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { KernelApi, NativeProcess } from '../../kernel/api.js';
import { FdLimiter } from '../fd-manager/limiter.js';
import { fromUtf8, type KernelMessage, type PackageId, type ProcessId, systemProcess } from '../../../core/types.js';
import {
  DbCaps,
  DbFailure,
  dbKeyString,
  newTxId,
  commitTxId,
  optionalTxId,
  packageIdJson,
  parseEnvelope,
  samePackage,
  serialServer,
  variant,
} from '../kv/common.js';

export const SQLITE_PROCESS: ProcessId = systemProcess('sqlite');

// The statement's first keyword decides whether it is a read or a write, as in Hyperdrive.
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

function firstKeyword(sql: string): string {
  return (sql.trim().split(/[\s(;]/)[0] ?? '').toUpperCase();
}

function toParam(v: unknown): SqlParam {
  if (v === null) return null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : v;
  if (typeof v === 'string') return v;
  // Bytes as a JSON array of 0-255, or the book's SqlValue enum form.
  if (Array.isArray(v) && v.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) return Buffer.from(v as number[]);
  if (v && typeof v === 'object') {
    const [[tag, val]] = Object.entries(v as Record<string, unknown>).concat([['', undefined]]);
    if (tag === 'Integer' && Number.isInteger(val)) return BigInt(val as number);
    if (tag === 'Real' && typeof val === 'number') return val;
    if (tag === 'Text' && typeof val === 'string') return val;
    if (tag === 'Boolean' && typeof val === 'boolean') return val ? 1 : 0;
    if (tag === 'Blob' && Array.isArray(val)) return toParam(val);
  }
  if (v === 'Null') return null;
  throw invalidParams();
}

function parseParams(blob: Uint8Array | undefined): SqlParam[] {
  if (!blob || blob.length === 0) return [];
  let v: unknown;
  try {
    v = JSON.parse(fromUtf8(blob));
  } catch {
    throw invalidParams();
  }
  if (!Array.isArray(v)) throw invalidParams();
  return v.map(toParam);
}

/** A row value as JSON: integers as numbers, blobs as base64 (as Hyperdrive does). */
function toJson(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (Buffer.isBuffer(v)) return v.toString('base64');
  return v;
}

export interface SqliteModule extends NativeProcess {
  openCount(): number;
}

export function createSqlite(opts: { home: string }): SqliteModule {
  const root = join(opts.home, 'sqlite');
  const open = new Map<string, Database.Database>();
  const txs = new Map<number, { dbKey: string; writes: Array<{ sql: string; params: SqlParam[] }> }>();
  let kernel!: KernelApi;
  let caps!: DbCaps;
  // Open handles count against the share fd-manager gives this module; the least recently used close first.
  const limiter = new FdLimiter(() => kernel, SQLITE_PROCESS, async (key) => {
    const h = open.get(key);
    open.delete(key);
    h?.close();
  });

  const fileOf = (pkg: PackageId, db: string) => join(root, `${pkg.packageName}:${pkg.publisherNode}`, `${db}.sqlite`);

  async function openDb(pkg: PackageId, db: string, create: boolean): Promise<Database.Database | undefined> {
    const key = dbKeyString(pkg, db);
    const have = open.get(key);
    if (have) {
      limiter.touch(key);
      return have;
    }
    const file = fileOf(pkg, db);
    if (!create && !existsSync(file)) return undefined;
    await mkdir(join(root, `${pkg.packageName}:${pkg.publisherNode}`), { recursive: true });
    await limiter.admit(key);
    try {
      const d = new Database(file);
      d.pragma('journal_mode = WAL');
      // In WAL mode NORMAL never corrupts and loses nothing when the node crashes (only on an OS
      // crash or power loss, the last commits); FULL would fsync every write.
      d.pragma('synchronous = NORMAL');
      d.defaultSafeIntegers(true);
      open.set(key, d);
      return d;
    } catch (e) {
      limiter.forget(key);
      throw new DbFailure({ IOError: `cannot open ${db}: ${(e as Error).message}` });
    }
  }

  function run<T>(f: () => T): T {
    try {
      return f();
    } catch (e) {
      if (e instanceof DbFailure) throw e;
      throw new DbFailure({ RusqliteError: (e as Error).message });
    }
  }

  async function perform(km: KernelMessage): Promise<{ body: unknown; blob?: Uint8Array }> {
    if (km.message.tag !== 'request') throw malformed();
    const env = parseEnvelope(km.message.val.body);
    const v = env && variant(env.action);
    if (!env || !v) throw malformed();
    const { pkg, db } = env;
    const source = km.source.process;
    const [name, arg] = v;
    const dbKey = dbKeyString(pkg, db);
    await limiter.enforce(); // the share may have shrunk since the last request
    const need = (kind: 'read' | 'write') => {
      if (!caps.holds(source, kind, pkg, db)) throw new DbFailure(kind === 'read' ? 'NoReadCap' : 'NoWriteCap');
    };
    const existing = async () => {
      const d = await openDb(pkg, db, false);
      if (!d) throw new DbFailure({ NoDb: [packageIdJson(pkg), db] });
      return d;
    };

    switch (name) {
      case 'Open': {
        if (arg !== undefined) throw malformed();
        if (!samePackage(source, pkg)) throw new DbFailure('MismatchingPackageId');
        await openDb(pkg, db, true);
        caps.grantOpener(source, pkg, db);
        return { body: 'Ok' };
      }
      case 'RemoveDb': {
        if (arg !== undefined) throw malformed();
        if (!samePackage(source, pkg)) throw new DbFailure('MismatchingPackageId');
        open.get(dbKey)?.close();
        open.delete(dbKey);
        limiter.forget(dbKey);
        for (const [id, tx] of txs) if (tx.dbKey === dbKey) txs.delete(id);
        const file = fileOf(pkg, db);
        await Promise.all([file, `${file}-wal`, `${file}-shm`].map((f) => rm(f, { force: true })));
        return { body: 'Ok' };
      }
      case 'Query': {
        if (typeof arg !== 'string') throw malformed();
        need('read');
        if (!READ_KEYWORDS.has(firstKeyword(arg))) throw new DbFailure('NotAReadKeyword');
        const params = parseParams(km.lazyLoadBlob?.bytes);
        const d = await existing();
        const rows = run(() => prepared(d, arg).all(...params)) as Array<Record<string, unknown>>;
        const out = rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, x]) => [k, toJson(x)])));
        return { body: 'Read', blob: new TextEncoder().encode(JSON.stringify(out)) };
      }
      case 'Write': {
        const a = arg as { statement?: unknown; tx_id?: unknown } | undefined;
        if (!a || typeof a !== 'object' || typeof a.statement !== 'string') throw malformed();
        const txId = optionalTxId(a.tx_id, malformed);
        need('write');
        const sql = a.statement;
        if (!WRITE_KEYWORDS.has(firstKeyword(sql))) throw new DbFailure('NotAWriteKeyword');
        const params = parseParams(km.lazyLoadBlob?.bytes);
        const d = await existing();
        if (txId !== undefined) {
          const tx = txs.get(txId);
          if (!tx || tx.dbKey !== dbKey) throw new DbFailure({ NoTx: txId });
          tx.writes.push({ sql, params });
        } else run(() => execute(d, sql, params));
        return { body: 'Ok' };
      }
      case 'BeginTx': {
        if (arg !== undefined) throw malformed();
        need('write');
        await existing();
        const id = newTxId();
        txs.set(id, { dbKey, writes: [] });
        return { body: { BeginTx: { tx_id: id } } };
      }
      case 'Commit': {
        const txId = commitTxId(arg, malformed);
        need('write');
        const d = await existing();
        const tx = txs.get(txId);
        if (!tx || tx.dbKey !== dbKey) throw new DbFailure({ NoTx: txId });
        txs.delete(txId);
        run(() =>
          d.transaction(() => {
            for (const w of tx.writes) execute(d, w.sql, w.params);
          })(),
        );
        return { body: 'Ok' };
      }
      default:
        throw malformed();
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
    },
    handle,
    openCount: () => open.size,
    async stop() {
      await serve.idle(); // requests already received finish first
      txs.clear();
      for (const d of open.values()) d.close();
      open.clear();
    },
  };
}

/** Prepared statements per connection, reused across requests (preparing costs as much as a small insert). */
const statements = new WeakMap<Database.Database, Map<string, Database.Statement>>();
const MAX_STATEMENTS_PER_DB = 128;

function prepared(d: Database.Database, sql: string): Database.Statement {
  let cache = statements.get(d);
  if (!cache) {
    cache = new Map();
    statements.set(d, cache);
  }
  const have = cache.get(sql);
  if (have) return have;
  const st = d.prepare(sql);
  if (cache.size >= MAX_STATEMENTS_PER_DB) cache.delete(cache.keys().next().value as string);
  cache.set(sql, st);
  return st;
}

/** Run a write; a statement without parameters may hold several statements (e.g. a schema). */
function execute(d: Database.Database, sql: string, params: SqlParam[]): void {
  if (params.length === 0) {
    d.exec(sql);
    return;
  }
  prepared(d, sql).run(...params);
}
