// sqlite:distro:sys inside a real kernel: native test processes send every SqliteAction and check
// rows, WAL mode on disk, capabilities, transactions and every error variant, as Hyperdrive's
// sqlite.rs answers them (test/conformance/sqlite.test.ts asserts the same from a component);
// and guard.ts, which keeps a statement inside its database file, read token by token.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { parseJsonExact, stringifyJsonExact } from '../../src/core/json.js';
import type { NativeProcess } from '../../src/runtime/kernel/api.js';
import type { Kernel } from '../../src/runtime/kernel/kernel.js';
import { dbCapParams } from '../../src/runtime/modules/kv/index.js';
import { refusal, tokens } from '../../src/runtime/modules/sqlite/guard.js';
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
    const body = stringifyJsonExact({ package_id: PKG, db, action });
    const blob = params === undefined ? undefined : { bytes: utf8(typeof params === 'string' ? params : JSON.stringify(params)) };
    const r = await kernel.request(source, SQLITE, body, { blob });
    return { body: parseJsonExact(fromUtf8(r.response.body)), rows: r.blob && parseJsonExact(fromUtf8(r.blob.bytes)) };
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
    // bytes go as base64, which binds as a BLOB (sqlite.rs json_to_sqlite)
    assert.deepEqual((await call(APP, insert, ['Bob', 1.5, true, Buffer.from([1, 2, 3]).toString('base64')])).body, 'Ok');
    assert.deepEqual((await call(APP, insert, ['Eve', 2.5, false, null])).body, 'Ok');
    const r = await call(APP, { Query: 'SELECT id, name, score, ok, pic FROM users WHERE score > ? ORDER BY id' }, [0]);
    assert.deepEqual(r.body, 'Read');
    assert.deepEqual(r.rows, [
      { id: 1, name: 'Bob', score: 1.5, ok: 1, pic: Buffer.from([1, 2, 3]).toString('base64') },
      { id: 2, name: 'Eve', score: 2.5, ok: 0, pic: null },
    ]);
    assert.deepEqual((await call(APP, { Query: 'SELECT count(*) AS n FROM users' })).rows, [{ n: 2 }], 'no blob means no params');
  });

  it('runs a transaction atomically on Commit, and nothing before', async () => {
    const tx = ((await call(APP, 'BeginTx')).body as { BeginTx: { tx_id: number | bigint } }).BeginTx.tx_id;
    const ins = { Write: { statement: 'INSERT INTO users (name) VALUES (?)', tx_id: tx } };
    assert.deepEqual((await call(APP, ins, ['Steve'])).body, 'Ok');
    assert.deepEqual((await call(APP, { Query: 'SELECT count(*) AS n FROM users' })).rows, [{ n: 2 }]);
    assert.deepEqual((await call(APP, { Commit: { tx_id: tx } })).body, 'Ok');
    assert.deepEqual((await call(APP, { Query: 'SELECT count(*) AS n FROM users' })).rows, [{ n: 3 }]);

    // a failing statement rolls back the whole transaction
    const tx2 = ((await call(APP, 'BeginTx')).body as { BeginTx: { tx_id: number | bigint } }).BeginTx.tx_id;
    await call(APP, { Write: { statement: 'INSERT INTO users (name) VALUES (?)', tx_id: tx2 } }, ['Mallory']);
    await call(APP, { Write: { statement: 'INSERT INTO nowhere (x) VALUES (?)', tx_id: tx2 } }, [1]);
    const failed = (await call(APP, { Commit: { tx_id: tx2 } })).body as { Err: { RusqliteError: string } };
    assert.match(failed.Err.RusqliteError, /no such table: nowhere/);
    assert.deepEqual((await call(APP, { Query: 'SELECT count(*) AS n FROM users' })).rows, [{ n: 3 }]);
    assert.deepEqual((await call(APP, { Commit: { tx_id: 7 } })).body, { Err: { NoTx: 7 } });
    // a Write with an unknown id starts that transaction (sqlite.rs: .entry(tx_id).or_default())
    assert.deepEqual((await call(APP, { Write: { statement: 'DELETE FROM users', tx_id: 7 } })).body, 'Ok');
    assert.deepEqual((await call(APP, { Query: 'SELECT count(*) AS n FROM users' })).rows, [{ n: 3 }], 'nothing written before Commit');
  });

  it('answers NotAWriteKeyword, NotAReadKeyword, InvalidParameters, RusqliteError, MalformedRequest', async () => {
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

  it('creates a missing db on any request after the capability check, and RemoveDb empties one (sqlite.rs)', async () => {
    kernel.grant(APP, [{ issuer: SQLITE, params: dbCapParams('read', PKG_ID, 'ghost') }]);
    assert.deepEqual((await call(APP, { Query: 'SELECT 1 AS one' }, undefined, 'ghost')).rows, [{ one: 1 }]);
    assert.ok(existsSync(join(home, 'sqlite/chat:template.os/ghost.sqlite')));
    assert.deepEqual((await call(APP, 'RemoveDb', undefined, 'never-made')).body, { Err: { IOError: 'No such file or directory (os error 2)' } });
    assert.deepEqual((await call(APP, 'RemoveDb')).body, 'Ok');
    assert.deepEqual((await call(APP, { Query: "SELECT count(*) AS n FROM sqlite_master WHERE name = 'users'" })).rows, [{ n: 0 }]);
  });
});

describe('sqlite guard: one statement, read as SQLite tokenizes it', () => {
  it('refuses ATTACH, VACUUM INTO and process-wide PRAGMAs however they are spelt', () => {
    for (const sql of [
      "ATTACH '/x' AS y",
      "attach database '/x' as y",
      "  /* c */ -- d\n ATTACH '/x' AS y",
      "EXPLAIN ATTACH '/x' AS y",
      "EXPLAIN QUERY PLAN ATTACH '/x' AS y",
      "VACUUM INTO '/x'",
      "vacuum main into '/x'",
      "VACUUM \"main\" /* */ INTO '/x'",
      "PRAGMA temp_store_directory = '/x'",
      "PRAGMA main.temp_store_directory='/x'",
      'PRAGMA [data_store_directory]',
      'pragma "soft_heap_limit" = 1',
      'PRAGMA hard_heap_limit=1',
    ])
      assert.ok(refusal(sql), sql);
  });

  it('lets everything else through, keywords inside strings, quoted names and comments included', () => {
    for (const sql of [
      'VACUUM',
      'VACUUM main',
      "SELECT 'ATTACH' AS a, \"INTO\" FROM t",
      "INSERT INTO t VALUES ('VACUUM INTO x')",
      'CREATE TABLE attach_log (into_x TEXT)',
      'PRAGMA journal_mode = WAL',
      'PRAGMA foreign_keys = ON',
      "PRAGMA table_info('temp_store_directory')",
      'SELECT 1 -- ATTACH',
      "SELECT x'00' /* ATTACH */",
    ])
      assert.equal(refusal(sql), undefined, sql);
  });

  it('reads quotes, doubled quotes, brackets and comments as SQLite does', () => {
    assert.deepEqual(
      tokens("a 'b''c' \"d\"\"e\" [f g] `h` -- x\n /* y */ X'0A' ;").map((t) => [t.kind, t.text]),
      [
        ['word', 'a'],
        ['quoted', "'b''c'"],
        ['quoted', '"d""e"'],
        ['quoted', '[f g]'],
        ['quoted', '`h`'],
        ['other', "X'0A'"],
        ['other', ';'],
      ],
    );
  });
});
