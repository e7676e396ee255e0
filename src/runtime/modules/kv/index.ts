// kv:distro:sys — key-value databases (book: KV API; interop §10.1) on LevelDB (classic-level),
// one folder per db at `<home>/kv/<package>:<publisher>/<db>`. Opening a db of one's own package
// grants the opener read and write capabilities; everyone else needs them granted. Keys travel
// in the body as byte arrays, values in the blob. Transactions are buffered and applied as one
// atomic batch on Commit.

import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import type { KernelApi, NativeProcess } from '../../kernel/api.js';
import { FdLimiter } from '../fd-manager/limiter.js';
import { type KernelMessage, type PackageId, type ProcessId, systemProcess } from '../../../core/types.js';
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
  type Served,
  serialServer,
  variant,
} from './common.js';

export { dbCapParams } from './common.js';

export const KV_PROCESS: ProcessId = systemProcess('kv');

type Db = ClassicLevel<Uint8Array, Uint8Array>;
type Op = { type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array };

const malformed = () => new DbFailure('MalformedRequest');

function keyOf(v: unknown): Uint8Array {
  if (!Array.isArray(v) || !v.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) throw malformed();
  return Uint8Array.from(v as number[]);
}

export interface KvModule extends NativeProcess {
  /** Open databases (for tests and fd accounting). */
  openCount(): number;
}

export function createKv(opts: { home: string }): KvModule {
  const root = join(opts.home, 'kv');
  const open = new Map<string, Db>();
  const txs = new Map<number, { dbKey: string; ops: Op[] }>();
  let kernel!: KernelApi;
  let caps!: DbCaps;
  // Open handles count against the share fd-manager gives this module; the least recently used close first.
  const limiter = new FdLimiter(() => kernel, KV_PROCESS, async (key) => {
    const h = open.get(key);
    open.delete(key);
    await h?.close();
  });

  const dirOf = (pkg: PackageId, db: string) => join(root, `${pkg.packageName}:${pkg.publisherNode}`, db);

  async function openDb(pkg: PackageId, db: string, create: boolean): Promise<Db | undefined> {
    const key = dbKeyString(pkg, db);
    const have = open.get(key);
    if (have) {
      limiter.touch(key);
      return have;
    }
    const dir = dirOf(pkg, db);
    if (!create && !existsSync(dir)) return undefined;
    await mkdir(dir, { recursive: true });
    await limiter.admit(key);
    const level: Db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
    try {
      await level.open();
    } catch (e) {
      limiter.forget(key);
      throw new DbFailure({ RocksDBError: `cannot open ${db}: ${(e as Error).message}` });
    }
    open.set(key, level);
    return level;
  }

  async function perform(km: KernelMessage): Promise<Served> {
    if (km.message.tag !== 'request') throw malformed();
    const env = parseEnvelope(km.message.val.body);
    const v = env && variant(env.action);
    if (!env || !v) throw malformed();
    const { pkg, db } = env;
    const source = km.source.process;
    const [name, arg] = v;
    await limiter.enforce(); // the share may have shrunk since the last request
    const need = (kind: 'read' | 'write') => {
      if (!caps.holds(source, kind, pkg, db)) throw new DbFailure(kind === 'read' ? 'NoReadCap' : 'NoWriteCap');
    };
    const existing = async () => {
      const level = await openDb(pkg, db, false);
      if (!level) throw new DbFailure({ NoDb: [packageIdJson(pkg), db] });
      return level;
    };
    const dbKey = dbKeyString(pkg, db);

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
        await open.get(dbKey)?.close();
        open.delete(dbKey);
        limiter.forget(dbKey);
        for (const [id, tx] of txs) if (tx.dbKey === dbKey) txs.delete(id);
        await rm(dirOf(pkg, db), { recursive: true, force: true });
        return { body: 'Ok' };
      }
      case 'Set':
      case 'Delete': {
        const a = arg as { key?: unknown; tx_id?: unknown } | undefined;
        if (!a || typeof a !== 'object') throw malformed();
        const key = keyOf(a.key);
        const txId = optionalTxId(a.tx_id, malformed);
        need('write');
        let op: Op;
        if (name === 'Set') {
          const value = km.lazyLoadBlob?.bytes;
          if (!value) throw malformed(); // the value must come in the blob
          op = { type: 'put', key, value };
        } else op = { type: 'del', key };
        const level = await existing();
        if (txId !== undefined) {
          const tx = txs.get(txId);
          if (!tx || tx.dbKey !== dbKey) throw new DbFailure({ NoTx: txId });
          tx.ops.push(op);
        } else if (op.type === 'put') await level.put(op.key, op.value);
        else await level.del(op.key);
        // answered once LevelDB has the write: an Ok that a crash could still undo would lose data
        return { body: 'Ok' };
      }
      case 'Get': {
        const key = keyOf(arg);
        need('read');
        const level = await existing();
        // LevelDB reads are served from memory or the block cache: synchronously, without the
        // thread-pool round trip of get().
        const value = level.getSync(key);
        if (value === undefined) throw new DbFailure('KeyNotFound');
        return { body: { Get: Array.from(key) }, blob: value };
      }
      case 'BeginTx': {
        if (arg !== undefined) throw malformed();
        need('write');
        await existing();
        const id = newTxId();
        txs.set(id, { dbKey, ops: [] });
        return { body: { BeginTx: { tx_id: id } } };
      }
      case 'Commit': {
        const txId = commitTxId(arg, malformed);
        need('write');
        const level = await existing();
        const tx = txs.get(txId);
        if (!tx || tx.dbKey !== dbKey) throw new DbFailure({ NoTx: txId });
        txs.delete(txId);
        // One LevelDB batch: all of the transaction lands, or none of it.
        await level.batch(tx.ops);
        return { body: 'Ok' };
      }
      default:
        throw malformed();
    }
  }

  const serve = serialServer(() => kernel, KV_PROCESS, perform);
  const handle = (km: KernelMessage) => (limiter.takeLimit(km) ? undefined : serve(km));
  return {
    id: KV_PROCESS,
    async start(k) {
      kernel = k;
      caps = new DbCaps(k, KV_PROCESS);
      await mkdir(root, { recursive: true });
    },
    handle,
    openCount: () => open.size,
    async stop() {
      await serve.idle(); // requests already received finish first
      txs.clear();
      const all = [...open.values()];
      open.clear();
      await Promise.all(all.map((l) => l.close().catch(() => {})));
    },
  };
}
