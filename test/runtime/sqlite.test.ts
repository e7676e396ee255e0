// sqlite:distro:sys inside a real kernel: native test processes send every SqliteAction of the
// book and check rows, WAL mode on disk, capabilities, transactions and every error variant.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { NativeProcess } from '../../src/runtime/kernel/api.js';
import type { Kernel } from '../../src/runtime/kernel/kernel.js';
import { dbCapParams } from '../../src/runtime/modules/kv/index.js';
import { createSqlite } from '../../src/runtime/modules/sqlite/index.js';
import { fromUtf8, messagingCap, parseProcessId, utf8 } from '../../src/core/types.js';
import { bareKernel } from './helpers.js';

const OUR = 'fake.dev';
const SQLITE = { node: OUR, process: parseProcessId('sqlite:distro:sys') };
const APP = parseProcessId('app:chat:template.os');
const SPY = parseProcessId('spy:other:evil.os');
const PKG = { package_name: 'chat', publisher_node: 'template.os' };
const PKG_ID = { packageName: 'chat', publisherNode: 'template.os' };

const native = (id: ReturnType<typeof parseProcessId>): NativeProcess => ({ id, handle() {} });

describe('sqlite:distro:sys', () => {
  let home: string;
  let kernel: Kernel;

  async function call(source: typeof APP, action: unknown, params?: unknown[] | string, db = 'users'): Promise<{ body: unknown; rows?: unknown }> {
    const body = JSON.stringify({ package_id: PKG, db, action });
    const blob = params === undefined ? undefined : { bytes: utf8(typeof params === 'string' ? params : JSON.stringify(params)) };
    const r = await kernel.request(source, SQLITE, body, { blob });
    return { body: JSON.parse(fromUtf8(r.response.body)), rows: r.blob && JSON.parse(fromUtf8(r.blob.bytes)) };
  }

  before(async () => {
    home = mkdtempSync(join(tmpdir(), 'kit-sqlite-'));
    kernel = bareKernel(OUR, home);
    await kernel.addNative(createSqlite({ home }), [messagingCap({ node: OUR, process: parseProcessId('kernel:distro:sys') })]);
    for (const p of [APP, SPY]) await kernel.addNative(native(p), [messagingCap(SQLITE)]);
    // ...each granting sqlite, so that its answers reach them (every Response is capability-checked)
    for (const p of [APP, SPY]) kernel.grant(SQLITE.process, [messagingCap({ node: OUR, process: p })]);
  });
  after(async () => {
    await kernel.shutdown();
    rmSync(home, { recursive: true, force: true });
  });

  it('Open creates a WAL-mode file and grants read and write to the opener', async () => {
    assert.deepEqual((await call(APP, 'Open')).body, 'Ok');
    const file = join(home, 'sqlite/chat:template.os/users.sqlite');
    assert.ok(existsSync(file));
    const probe = new Database(file, { readonly: true });
    assert.equal(probe.pragma('journal_mode', { simple: true }), 'wal');
    probe.close();
    assert.ok(kernel.hasCapability(APP, { issuer: SQLITE, params: dbCapParams('write', PKG_ID, 'users') }));
    assert.ok(kernel.hasCapability(APP, { issuer: SQLITE, params: dbCapParams('read', PKG_ID, 'users') }));
  });

  it('Write runs statements with params; Query answers Read with rows as JSON in the blob', async () => {
    assert.deepEqual((await call(APP, { Write: { statement: 'CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, score REAL, ok INTEGER, pic BLOB)', tx_id: null } })).body, 'Ok');
    const insert = { Write: { statement: 'INSERT INTO users (name, score, ok, pic) VALUES (?, ?, ?, ?)', tx_id: null } };
    assert.deepEqual((await call(APP, insert, ['Bob', 1.5, true, [1, 2, 3]])).body, 'Ok');
    assert.deepEqual((await call(APP, insert, [{ Text: 'Eve' }, { Real: 2.5 }, { Boolean: false }, null])).body, 'Ok');
    const r = await call(APP, { Query: 'SELECT id, name, score, ok, pic FROM users WHERE score > ? ORDER BY id' }, [0]);
    assert.deepEqual(r.body, 'Read');
    assert.deepEqual(r.rows, [
      { id: 1, name: 'Bob', score: 1.5, ok: 1, pic: Buffer.from([1, 2, 3]).toString('base64') },
      { id: 2, name: 'Eve', score: 2.5, ok: 0, pic: null },
    ]);
    assert.deepEqual((await call(APP, { Query: 'SELECT count(*) AS n FROM users' })).rows, [{ n: 2 }], 'no blob means no params');
  });

  it('runs a transaction atomically on Commit, and nothing before', async () => {
    const tx = ((await call(APP, 'BeginTx')).body as { BeginTx: { tx_id: number } }).BeginTx.tx_id;
    const ins = { Write: { statement: 'INSERT INTO users (name) VALUES (?)', tx_id: tx } };
    assert.deepEqual((await call(APP, ins, ['Steve'])).body, 'Ok');
    assert.deepEqual((await call(APP, { Query: 'SELECT count(*) AS n FROM users' })).rows, [{ n: 2 }]);
    assert.deepEqual((await call(APP, { Commit: { tx_id: tx } })).body, 'Ok');
    assert.deepEqual((await call(APP, { Query: 'SELECT count(*) AS n FROM users' })).rows, [{ n: 3 }]);

    // a failing statement rolls back the whole transaction
    const tx2 = ((await call(APP, 'BeginTx')).body as { BeginTx: { tx_id: number } }).BeginTx.tx_id;
    await call(APP, { Write: { statement: 'INSERT INTO users (name) VALUES (?)', tx_id: tx2 } }, ['Mallory']);
    await call(APP, { Write: { statement: 'INSERT INTO nowhere (x) VALUES (?)', tx_id: tx2 } }, [1]);
    const failed = (await call(APP, { Commit: { tx_id: tx2 } })).body as { Err: { RusqliteError: string } };
    assert.match(failed.Err.RusqliteError, /no such table: nowhere/);
    assert.deepEqual((await call(APP, { Query: 'SELECT count(*) AS n FROM users' })).rows, [{ n: 3 }]);
    assert.deepEqual((await call(APP, { Commit: { tx_id: 7 } })).body, { Err: { NoTx: 7 } });
    assert.deepEqual((await call(APP, { Write: { statement: 'DELETE FROM users', tx_id: 7 } })).body, { Err: { NoTx: 7 } });
    assert.deepEqual((await call(APP, { Query: 'SELECT count(*) AS n FROM users' })).rows, [{ n: 3 }], 'nothing written');
  });

  it('answers the book errors: NotAWriteKeyword, NotAReadKeyword, InvalidParameters, RusqliteError, MalformedRequest', async () => {
    assert.deepEqual((await call(APP, { Write: { statement: 'SELECT 1', tx_id: null } })).body, { Err: 'NotAWriteKeyword' });
    assert.deepEqual((await call(APP, { Query: 'DELETE FROM users' })).body, { Err: 'NotAReadKeyword' });
    assert.deepEqual((await call(APP, { Query: 'SELECT ?' }, [{ nested: true }])).body, { Err: 'InvalidParameters' });
    assert.deepEqual((await call(APP, { Query: 'SELECT ?' }, 'not json')).body, { Err: 'InvalidParameters' });
    assert.deepEqual((await call(APP, { Query: 'SELECT ?' }, { a: 1 } as unknown as unknown[])).body, { Err: 'InvalidParameters' });
    const bad = (await call(APP, { Query: 'SELECT nope FROM users' })).body as { Err: { RusqliteError: string } };
    assert.match(bad.Err.RusqliteError, /no such column/);
    assert.deepEqual((await call(APP, { Write: { statement: 42, tx_id: null } })).body, { Err: 'MalformedRequest' });
    assert.deepEqual((await call(APP, 'Explode')).body, { Err: 'MalformedRequest' });
    const raw = await kernel.request(APP, SQLITE, '{"db": 1}');
    assert.deepEqual(JSON.parse(fromUtf8(raw.response.body)), { Err: 'MalformedRequest' });
  });

  it('checks capabilities both ways and package ownership for Open and RemoveDb', async () => {
    assert.deepEqual((await call(SPY, { Query: 'SELECT * FROM users' })).body, { Err: 'NoReadCap' });
    assert.deepEqual((await call(SPY, { Write: { statement: 'DELETE FROM users', tx_id: null } })).body, { Err: 'NoWriteCap' });
    assert.deepEqual((await call(SPY, 'BeginTx')).body, { Err: 'NoWriteCap' });
    assert.deepEqual((await call(SPY, 'Open')).body, { Err: 'MismatchingPackageId' });
    assert.deepEqual((await call(SPY, 'RemoveDb')).body, { Err: 'MismatchingPackageId' });
    kernel.grant(SPY, [{ issuer: SQLITE, params: dbCapParams('read', PKG_ID, 'users') }]);
    assert.deepEqual((await call(SPY, { Query: 'SELECT count(*) AS n FROM users' })).rows, [{ n: 3 }]);
    assert.deepEqual((await call(SPY, { Write: { statement: 'DELETE FROM users', tx_id: null } })).body, { Err: 'NoWriteCap' });
  });

  it('answers NoDb for a missing db and RemoveDb deletes the files', async () => {
    kernel.grant(APP, [{ issuer: SQLITE, params: dbCapParams('read', PKG_ID, 'ghost') }]);
    assert.deepEqual((await call(APP, { Query: 'SELECT 1' }, undefined, 'ghost')).body, { Err: { NoDb: [PKG, 'ghost'] } });
    assert.ok(!existsSync(join(home, 'sqlite/chat:template.os/ghost.sqlite')), 'a query does not create a db');
    assert.deepEqual((await call(APP, 'RemoveDb')).body, 'Ok');
    assert.ok(!existsSync(join(home, 'sqlite/chat:template.os/users.sqlite')));
    assert.deepEqual((await call(APP, { Query: 'SELECT 1' })).body, { Err: { NoDb: [PKG, 'users'] } });
  });
});
