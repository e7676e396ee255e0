// kv:distro:sys — key-value databases on LevelDB (classic-level), one folder per db at
// `<home>/kv/<package>:<publisher>/<db>`, answering as Hyperdrive's kv (hyperdrive/src/kv.rs,
// lib/src/kv.rs). Open (own package only) grants the opener read and write; every other action
// needs the capability, whoever asks. After that check every request opens the db, so a db exists
// once anyone with a capability touches it (no NoDb). Keys travel in the body as byte arrays,
// values in the blob. Transaction ids are global: Set/Delete with a tx id queue on that tx
// whatever their db, and Commit applies the queue to its own db as one atomic batch.

import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { type KernelMessage, type PackageId, type ProcessId, systemProcess } from '../../../core/types.js';
import type { KernelApi, NativeProcess } from '../../kernel/api.js';
import { FDS_PER_HANDLE, FdLimiter } from '../fd-manager/limiter.js';
import { ioErrorText } from '../os-error.js';
import { commitTxId, DbCaps, DbFailure, dbKeyString, newTxId, optionalTxId, parseEnvelope, type Served, serialServer, structFields, type TxKey, txIdJson, variant, checkDbAccess } from './common.js';

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
  /** The fd-manager side: open handles, the descriptors they hold, the share. */
  fdStats(): ReturnType<FdLimiter['stats']>;
}

export function createKv(opts: { home: string }): KvModule {
  const root = join(opts.home, 'kv');
  const open = new Map<string, Db>();
  /** Every open transaction, whatever its db (Hyperdrive keeps one table). */
  const txs = new Map<TxKey, Op[]>();
  let kernel!: KernelApi;
  let caps!: DbCaps;
  // Each open LevelDB holds 4 descriptors, counted against the share fd-manager gives this module.
  const limiter = new FdLimiter(
    () => kernel,
    KV_PROCESS,
    async (key) => {
      const h = open.get(key);
      open.delete(key);
      await h?.close();
    },
    FDS_PER_HANDLE.leveldb,
  );

  const dirOf = (pkg: PackageId, db: string) => join(root, `${pkg.packageName}:${pkg.publisherNode}`, db);

  /** Hyperdrive's open_db: the open handle, or the folder created and opened. */
  async function openDb(pkg: PackageId, db: string): Promise<Db> {
    const key = dbKeyString(pkg, db);
    const have = open.get(key);
    if (have) {
      limiter.touch(key);
      return have;
    }
    const dir = dirOf(pkg, db);
    await mkdir(dir, { recursive: true }).catch((e) => {
      throw new DbFailure({ IOError: ioErrorText(e) });
    });
    await limiter.admit(key);
    const level: Db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
    try {
      await level.open();
    } catch (e) {
      limiter.forget(key);
      const cause = (e as { cause?: Error }).cause;
      throw new DbFailure({ RocksDBError: `${(e as Error).message}${cause ? `: ${cause.message}` : ''}` });
    }
    open.set(key, level);
    return level;
  }

  async function closeDb(key: string): Promise<void> {
    const h = open.get(key);
    open.delete(key);
    limiter.forget(key);
    await h?.close();
  }

  async function perform(km: KernelMessage): Promise<Served> {
    if (km.message.tag !== 'request') throw malformed();
    const env = parseEnvelope(km.message.val.body);
    const v = env && variant(env.action);
    if (!env || !v) throw malformed();
    const { pkg, db } = env;
    const source = km.source.process;
    const [name, arg] = v;
    const dbKey = dbKeyString(pkg, db);

    // Decode the action fully first: serde refuses a malformed one before anything happens.
    let action:
      | { name: 'Open' | 'RemoveDb' | 'BeginTx' }
      | { name: 'Set' | 'Delete'; key: Uint8Array; txId: TxKey | undefined }
      | { name: 'Get'; key: Uint8Array }
      | { name: 'Commit'; txId: TxKey };
    switch (name) {
      case 'Open':
      case 'RemoveDb':
      case 'BeginTx':
        if (arg !== undefined) throw malformed();
        action = { name };
        break;
      case 'Set':
      case 'Delete': {
        const f = structFields(arg, ['key', 'tx_id']);
        if (!f) throw malformed();
        action = { name, key: keyOf(f.key), txId: optionalTxId(f.tx_id, malformed) };
        break;
      }
      case 'Get':
        action = { name, key: keyOf(arg) };
        break;
      case 'Commit':
        action = { name, txId: commitTxId(arg, malformed) };
        break;
      default:
        throw malformed();
    }

    checkDbAccess(caps, source, pkg, db, action.name, 'Get');
    await limiter.enforce(); // the share may have shrunk since the last request
    if (action.name === 'Open') caps.grantOpener(source, pkg, db);
    if (action.name === 'RemoveDb') {
      await closeDb(dbKey);
      await rm(dirOf(pkg, db), { recursive: true }).catch((e) => {
        throw new DbFailure({ IOError: ioErrorText(e) });
      });
    }
    // "always open to ensure db exists" (kv.rs): a removed db comes back empty.
    const level = await openDb(pkg, db);

    switch (action.name) {
      case 'Open':
      case 'RemoveDb':
        return { body: 'Ok' };
      case 'Get': {
        // LevelDB reads are served from memory or the block cache: synchronously, without the
        // thread-pool round trip of get().
        const value = level.getSync(action.key);
        if (value === undefined) throw new DbFailure('KeyNotFound');
        return { body: { Get: Array.from(action.key) }, blob: value };
      }
      case 'BeginTx': {
        const id = newTxId();
        txs.set(id, []);
        return { body: { BeginTx: { tx_id: txIdJson(id) } } };
      }
      case 'Set':
      case 'Delete': {
        let op: Op;
        if (action.name === 'Set') {
          const value = km.lazyLoadBlob?.bytes;
          if (!value) throw malformed(); // the value must come in the blob
          op = { type: 'put', key: action.key, value };
        } else op = { type: 'del', key: action.key };
        if (action.txId !== undefined) {
          const tx = txs.get(action.txId);
          if (!tx) throw new DbFailure({ NoTx: txIdJson(action.txId) });
          tx.push(op);
        } else if (op.type === 'put') await level.put(op.key, op.value);
        else await level.del(op.key);
        // answered once LevelDB has the write: an Ok that a crash could still undo would lose data
        return { body: 'Ok' };
      }
      case 'Commit': {
        const ops = txs.get(action.txId);
        if (!ops) throw new DbFailure({ NoTx: txIdJson(action.txId) });
        txs.delete(action.txId);
        // One LevelDB batch: all of the transaction lands, or none of it.
        await level.batch(ops);
        return { body: 'Ok' };
      }
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
      limiter.start();
    },
    handle,
    openCount: () => open.size,
    fdStats: () => limiter.stats(),
    async stop() {
      await serve.idle(); // requests already received finish first
      txs.clear();
      const all = [...open.values()];
      open.clear();
      await Promise.all(all.map((l) => l.close().catch(() => {})));
    },
  };
}
