// sqlite:distro:sys from inside a component, as Hyperdrive 1.9.2 answers: the shapes of
// lib/src/sqlite.rs (SqliteRequest, SqliteAction, SqliteResponse, SqliteError) and the behaviour
// of hyperdrive/src/sqlite.rs: the first-word keyword sets, json_to_sqlite (a string that is
// valid standard base64 binds as a BLOB; arrays and objects are InvalidParameters), one statement
// per Write (`db.prepare(&statement)?.execute`), a Write with an unknown tx_id starting that
// transaction (`.entry(tx_id).or_default()`), the db opened on every request, and errors sent even
// to a caller that awaits nothing. Where Hyperdrive is a security hole (its capability check lets
// every request through; ATTACH and VACUUM INTO write anywhere) the cases assert our safer answer.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseJsonExact } from '../../src/core/json.js';
import { bootConformanceNode, type ConformanceNode, type DriverHandle, PUBLISHER } from './harness.js';

const SQLITE = 'sqlite:distro:sys';
const pkgId = (name: string) => ({ package_name: name, publisher_node: PUBLISHER });
const OWNER = pkgId('sql-owner');
const capOn = (kind: 'read' | 'write', db: string) => ({ process: SQLITE, params: { kind, db_key: [OWNER, db] } });

describe('conformance: sqlite', { timeout: 600_000 }, () => {
  let c: ConformanceNode;
  let owner: DriverHandle;
  let reader: DriverHandle;
  let stranger: DriverHandle;

  const req = (db: string, action: unknown) => ({ package_id: OWNER, db, action });
  const sql = async (d: DriverHandle, db: string, action: unknown, params?: unknown[] | string) =>
    parseJsonExact(
      (await d.answer(SQLITE, req(db, action), params === undefined ? {} : { blob: typeof params === 'string' ? params : JSON.stringify(params) })).body,
    );
  const write = (db: string, statement: string, params: unknown[] = [], tx_id: unknown = null) =>
    sql(owner, db, { Write: { statement, tx_id } }, params);
  /** Query's rows, parsed exactly from the answer's blob. */
  const rows = async (d: DriverHandle, db: string, query: string, params: unknown[] = []) => {
    const a = await d.answer(SQLITE, req(db, { Query: query }), { blob: JSON.stringify(params) });
    assert.equal(a.body, '"Read"', a.body);
    return parseJsonExact(Buffer.from(a.blob!.base64, 'base64').toString()) as Array<Record<string, unknown>>;
  };

  before(async () => {
    const proc = (name: string, extra: unknown[] = []) => ({
      name,
      request_capabilities: ['http-server:distro:sys', SQLITE, ...extra],
      grant_capabilities: ['http-server:distro:sys', SQLITE],
    });
    c = await bootConformanceNode([
      { name: 'sql-owner', processes: [proc('main')] },
      { name: 'sql-reader', processes: [proc('main', [capOn('read', 'main'), capOn('read', 'never-opened')])] },
      { name: 'sql-stranger', processes: [proc('main')] },
    ]);
    owner = c.driver('main', 'sql-owner');
    reader = c.driver('main', 'sql-reader');
    stranger = c.driver('main', 'sql-stranger');
    assert.equal(await sql(owner, 'main', 'Open'), 'Ok');
    assert.equal(await write('main', 'CREATE TABLE t (id INTEGER PRIMARY KEY, x)'), 'Ok');
  });
  after(async () => {
    await c?.stop();
  });

  it('Query answers "Read" with the rows as JSON in an application/octet-stream blob, echoing the metadata', async () => {
    assert.equal(await write('main', 'INSERT INTO t (x) VALUES (?)', [42]), 'Ok');
    const a = await owner.answer(SQLITE, req('main', { Query: 'SELECT x FROM t' }), { blob: '[]', metadata: 'q-1' });
    assert.equal(a.body, '"Read"');
    assert.equal(a.blob?.mime, 'application/octet-stream');
    assert.equal(a.metadata, 'q-1');
    assert.deepEqual(JSON.parse(Buffer.from(a.blob!.base64, 'base64').toString()), [{ x: 42 }]);
    // rusqlite's query steps a statement that returns nothing: no rows
    assert.deepEqual(await rows(owner, 'main', 'PRAGMA foreign_keys = ON'), []);
    assert.ok((await rows(owner, 'main', 'PRAGMA table_info(t)')).length === 2);
    await write('main', 'DELETE FROM t');
  });

  it('S1: a string that is valid standard base64 binds as a BLOB, any other as TEXT (sqlite.rs json_to_sqlite)', async () => {
    const cases: Array<[unknown, string, string]> = [
      ['test', 'blob', 'B5EB2D'],
      ['aGk=', 'blob', '6869'],
      ['', 'blob', ''],
      ['hello', 'text', '68656C6C6F'],
      ['aGk', 'text', '61476B'],
      ['aGk=\n', 'text', '61476B3D0A'],
      ['aG-_', 'text', '61472D5F'],
      [true, 'integer', '31'],
      [-5, 'integer', '2D35'],
      [1.5, 'real', '312E35'],
      [null, 'null', ''],
    ];
    for (const [value, type, hex] of cases) {
      await write('main', 'DELETE FROM t');
      assert.equal(await write('main', 'INSERT INTO t (x) VALUES (?)', [value]), 'Ok');
      const [r] = await rows(owner, 'main', 'SELECT typeof(x) AS type, hex(x) AS hex FROM t');
      assert.deepEqual([r.type, r.hex], [type, hex], JSON.stringify(value));
    }
    await write('main', 'DELETE FROM t');
    await write('main', 'INSERT INTO t (x) VALUES (?)', ['test']);
    assert.deepEqual(await rows(owner, 'main', 'SELECT x FROM t WHERE x = ?', ['test']), [{ x: 'test' }], 'a blob comes back as base64');
    assert.deepEqual(await rows(owner, 'main', "SELECT count(*) AS n FROM t WHERE x = 'test'"), [{ n: 0 }], 'it is not the text "test"');
    // integers past 2^53 bind exactly and come back digit for digit; past i64 they are REAL
    await write('main', 'DELETE FROM t');
    await sql(owner, 'main', { Write: { statement: 'INSERT INTO t (x) VALUES (?)', tx_id: null } }, '[9007199254740993]');
    const big = await owner.answer(SQLITE, req('main', { Query: 'SELECT x, typeof(x) AS type FROM t' }), { blob: '[]' });
    assert.equal(Buffer.from(big.blob!.base64, 'base64').toString().replace(/\s/g, '').includes('9007199254740993'), true);
    await write('main', 'DELETE FROM t');
    await sql(owner, 'main', { Write: { statement: 'INSERT INTO t (x) VALUES (?)', tx_id: null } }, '[9223372036854775808]');
    assert.deepEqual(await rows(owner, 'main', 'SELECT typeof(x) AS type FROM t'), [{ type: 'real' }]);
  });

  it('S1: arrays, objects and a blob that is not a JSON array are InvalidParameters', async () => {
    for (const params of ['[[1,2]]', '[{"a":1}]', '{"a":1}', 'not json', '', '"x"'])
      assert.deepEqual(await sql(owner, 'main', { Query: 'SELECT ?' }, params), { Err: 'InvalidParameters' }, params);
  });

  it('S2: one statement per Write; several are refused whole (rusqlite: "Multiple statements provided")', async () => {
    assert.deepEqual(await write('main', 'CREATE TABLE a (x); CREATE TABLE b (y)'), { Err: { RusqliteError: 'Multiple statements provided' } });
    assert.deepEqual(await rows(owner, 'main', "SELECT name FROM sqlite_master WHERE name IN ('a', 'b')"), [], 'neither ran');
    assert.equal(await write('main', 'CREATE TABLE a (x); -- a trailing comment is no statement'), 'Ok');
  });

  it('S3: a Write with an unknown tx_id starts that transaction; ids are global u64s (sqlite.rs)', async () => {
    await sql(owner, 'other', 'Open');
    await sql(owner, 'other', { Write: { statement: 'CREATE TABLE o (v)', tx_id: null } });
    const id = '12345678901234567890';
    const body = (db: string, action: string) => `{"package_id":${JSON.stringify(OWNER)},"db":"${db}","action":${action}}`;
    const w = await owner.answer(SQLITE, body('main', `{"Write":{"statement":"INSERT INTO o (v) VALUES (?)","tx_id":${id}}}`), { blob: '[7]' });
    assert.equal(w.body, '"Ok"');
    assert.deepEqual(await rows(owner, 'other', 'SELECT v FROM o'), [], 'nothing before Commit');
    // queued through "main", committed on "other": the statement runs on "other"
    assert.equal((await owner.answer(SQLITE, body('other', `{"Commit":{"tx_id":${id}}}`))).body, '"Ok"');
    assert.deepEqual(await rows(owner, 'other', 'SELECT v FROM o'), [{ v: 7 }]);
    assert.equal((await owner.answer(SQLITE, body('other', `{"Commit":{"tx_id":${id}}}`))).body, `{"Err":{"NoTx":${id}}}`);
    const begun = (await sql(owner, 'main', 'BeginTx')) as { BeginTx: { tx_id: number | bigint } };
    assert.equal(await write('main', 'INSERT INTO t (x) VALUES (1)', [], begun.BeginTx.tx_id), 'Ok');
    assert.equal(await sql(owner, 'main', { Commit: { tx_id: begun.BeginTx.tx_id } }), 'Ok');
  });

  it('the db is opened (created) on every request after the capability check: no NoDb', async () => {
    assert.deepEqual(await rows(reader, 'never-opened', 'SELECT 1 AS one'), [{ one: 1 }]);
  });

  it('a statement must start with one of Hyperdrive\'s read or write keywords (split_whitespace().next())', async () => {
    assert.deepEqual(await sql(owner, 'main', { Query: 'DROP TABLE t' }, []), { Err: 'NotAReadKeyword' });
    assert.deepEqual(await write('main', 'SELECT 1'), { Err: 'NotAWriteKeyword' });
    assert.deepEqual(await sql(owner, 'main', { Query: 'SELECT(1)' }, []), { Err: 'NotAReadKeyword' });
    assert.deepEqual(await write('main', '  '), { Err: 'NotAWriteKeyword' });
  });

  it('Open and RemoveDb are for the own package; Query and Write need the capabilities (ours: Hyperdrive asks but lets every request through)', async () => {
    assert.deepEqual(await sql(reader, 'main', 'Open'), { Err: 'MismatchingPackageId' });
    assert.deepEqual(await sql(reader, 'main', 'RemoveDb'), { Err: 'MismatchingPackageId' });
    assert.deepEqual(await sql(reader, 'main', { Write: { statement: 'DELETE FROM t', tx_id: null } }, []), { Err: 'NoWriteCap' });
    assert.deepEqual(await sql(reader, 'main', 'BeginTx'), { Err: 'NoWriteCap' });
    assert.deepEqual(await sql(stranger, 'main', { Query: 'SELECT * FROM t' }, []), { Err: 'NoReadCap' });
    assert.ok(Array.isArray(await rows(reader, 'main', 'SELECT * FROM t')));
  });

  it('E1 (ours): nothing a process runs reaches a file outside its database', async () => {
    const outside = (name: string) => join(c.work, name);
    const refused = (r: unknown) => assert.match(((r as { Err: { RusqliteError: string } }).Err?.RusqliteError ?? '') as string, /^not authorized: /, JSON.stringify(r));
    refused(await write('main', `VACUUM INTO '${outside('vacuum.db')}'`));
    refused(await write('main', `VACUUM main INTO '${outside('vacuum2.db')}'`));
    refused(await sql(owner, 'main', { Query: `ATTACH '${outside('attach.db')}' AS o` }, []));
    refused(await sql(owner, 'main', { Query: `ATTACH DATABASE '${outside('attach2.db')}' AS "o"` }, []));
    refused(await sql(owner, 'main', { Query: `EXPLAIN ATTACH '${outside('attach3.db')}' AS o` }, []));
    refused(await sql(owner, 'main', { Query: `PRAGMA temp_store_directory = '${c.work}'` }, []));
    refused(await sql(owner, 'main', { Query: 'PRAGMA main."soft_heap_limit" = 1' }, []));
    // behind another statement: refused whole (one statement per request)
    assert.deepEqual(await write('main', `CREATE TABLE z (a); ATTACH '${outside('behind.db')}' AS o; CREATE TABLE o.t (a)`), {
      Err: { RusqliteError: 'Multiple statements provided' },
    });
    // in a transaction the statement is judged when Commit runs it
    assert.equal(await write('main', `VACUUM INTO '${outside('tx.db')}'`, [], 77), 'Ok');
    refused(await sql(owner, 'main', { Commit: { tx_id: 77 } }));
    // load_extension is refused by SQLite itself
    const ext = (await sql(owner, 'main', { Query: "SELECT load_extension('/nonexistent')" }, [])) as { Err: { RusqliteError: string } };
    assert.match(ext.Err.RusqliteError, /not authorized/);
    for (const f of ['vacuum.db', 'vacuum2.db', 'attach.db', 'attach2.db', 'attach3.db', 'behind.db', 'tx.db']) assert.equal(existsSync(outside(f)), false, f);
    // what stays allowed
    assert.equal(await write('main', 'VACUUM'), 'Ok');
    assert.deepEqual(await rows(owner, 'main', 'PRAGMA journal_mode'), [{ journal_mode: 'wal' }]);
  });

  it('a request serde cannot read is MalformedRequest', async () => {
    for (const body of ['nope', JSON.stringify(req('main', { Query: 5 })), JSON.stringify(req('main', { Write: { tx_id: null } })), JSON.stringify({ db: 'main', action: 'Open' })])
      assert.deepEqual(JSON.parse((await owner.answer(SQLITE, body)).body), { Err: 'MalformedRequest' }, body);
  });
});
