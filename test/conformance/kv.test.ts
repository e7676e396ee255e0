// kv:distro:sys from inside a component, as Hyperdrive 1.9.2 answers: the shapes of lib/src/kv.rs
// (KvRequest, KvAction, KvResponse, KvError, KvCapabilityParams) and the behaviour of
// hyperdrive/src/kv.rs: check_caps (Open and RemoveDb for the own package, every other action by
// capability, no process exempt), open_db on every request after that check (so NoDb is never
// sent), one table of transaction ids for all dbs, errors sent even to a caller that awaits
// nothing, the request metadata echoed and blobs marked application/octet-stream.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseJsonExact } from '../../src/core/json.js';
import { bootConformanceNode, type ConformanceNode, type DriverHandle, PUBLISHER } from './harness.js';

const KV = 'kv:distro:sys';
const pkgId = (name: string) => ({ package_name: name, publisher_node: PUBLISHER });
const OWNER = pkgId('kv-owner');
const capOn = (kind: 'read' | 'write', db: string) => ({ process: KV, params: { kind, db_key: [OWNER, db] } });
const bytes = (s: string) => Array.from(Buffer.from(s));

describe('conformance: kv', { timeout: 600_000 }, () => {
  let c: ConformanceNode;
  let owner: DriverHandle;
  let reader: DriverHandle;
  let stranger: DriverHandle;

  const req = (db: string, action: unknown, pkg = OWNER) => ({ package_id: pkg, db, action });
  /** The answer's body text parsed exactly (u64 tx ids stay bigints). */
  const kv = async (d: DriverHandle, db: string, action: unknown, o: { blob?: string; metadata?: string; pkg?: unknown } = {}) =>
    parseJsonExact((await d.answer(KV, req(db, action, (o.pkg ?? OWNER) as typeof OWNER), o)).body);

  before(async () => {
    const proc = (name: string, extra: unknown[] = []) => ({
      name,
      request_capabilities: ['http-server:distro:sys', KV, ...extra],
      grant_capabilities: ['http-server:distro:sys', KV],
    });
    c = await bootConformanceNode([
      { name: 'kv-owner', processes: [proc('main')] },
      { name: 'kv-reader', processes: [proc('main', [capOn('read', 'shared'), capOn('read', 'never-opened')])] },
      { name: 'kv-stranger', processes: [proc('main')] },
    ]);
    owner = c.driver('main', 'kv-owner');
    reader = c.driver('main', 'kv-reader');
    stranger = c.driver('main', 'kv-stranger');
  });
  after(async () => {
    await c?.stop();
  });

  it('Open grants the opener read and write as KvCapabilityParams; the rest answers in KvResponse shapes', async () => {
    assert.equal(await kv(owner, 'shared', 'Open'), 'Ok');
    const caps = await owner.capabilities();
    for (const kind of ['read', 'write'])
      assert.ok(
        caps.some((cp) => cp.issuer === `fake.dev@${KV}` && JSON.stringify(JSON.parse(cp.params)) === JSON.stringify({ kind, db_key: [OWNER, 'shared'] })),
        `holds ${kind}: ${JSON.stringify(caps)}`,
      );
    assert.equal(await kv(owner, 'shared', { Set: { key: bytes('k'), tx_id: null } }, { blob: 'v1' }), 'Ok');
    const got = await owner.answer(KV, req('shared', { Get: bytes('k') }));
    assert.deepEqual(JSON.parse(got.body), { Get: bytes('k') });
    assert.equal(Buffer.from(got.blob!.base64, 'base64').toString(), 'v1');
    assert.equal(got.blob!.mime, 'application/octet-stream');
    assert.equal(await kv(owner, 'shared', { Delete: { key: bytes('k'), tx_id: null } }), 'Ok');
    assert.deepEqual(await kv(owner, 'shared', { Get: bytes('k') }), { Err: 'KeyNotFound' });
    // Option<u64> may be left out, as serde reads a missing Option field
    assert.equal(await kv(owner, 'shared', { Set: { key: bytes('k2') } }, { blob: 'v2' }), 'Ok');
  });

  it('every request opens the db after the capability check, so NoDb never comes (kv.rs: "always open to ensure db exists")', async () => {
    assert.deepEqual(await kv(reader, 'never-opened', { Get: bytes('x') }), { Err: 'KeyNotFound' });
    // RemoveDb deletes the db and the same request opens it again, empty
    assert.equal(await kv(owner, 'shared', 'RemoveDb'), 'Ok');
    assert.deepEqual(await kv(owner, 'shared', { Get: bytes('k2') }), { Err: 'KeyNotFound' });
    assert.equal(await kv(owner, 'shared', 'RemoveDb'), 'Ok', 'the db was opened again, so a second RemoveDb finds it');
  });

  it('capabilities decide every action but Open and RemoveDb, which only the own package may send (kv.rs check_caps)', async () => {
    await kv(owner, 'shared', { Set: { key: bytes('k'), tx_id: null } }, { blob: 'v' });
    assert.equal(JSON.parse((await reader.answer(KV, req('shared', { Get: bytes('k') }))).body).Get.length, 1);
    assert.deepEqual(await kv(reader, 'shared', { Set: { key: bytes('k'), tx_id: null } }, { blob: 'x' }), { Err: 'NoWriteCap' });
    assert.deepEqual(await kv(reader, 'shared', { Delete: { key: bytes('k'), tx_id: null } }), { Err: 'NoWriteCap' });
    assert.deepEqual(await kv(reader, 'shared', 'BeginTx'), { Err: 'NoWriteCap' });
    assert.deepEqual(await kv(reader, 'shared', { Commit: { tx_id: 1 } }), { Err: 'NoWriteCap' });
    assert.deepEqual(await kv(stranger, 'shared', { Get: bytes('k') }), { Err: 'NoReadCap' });
    assert.deepEqual(await kv(reader, 'shared', 'Open'), { Err: 'MismatchingPackageId' });
    assert.deepEqual(await kv(reader, 'shared', 'RemoveDb'), { Err: 'MismatchingPackageId' });
    // the own package still needs the capabilities Open grants: a db it never opened answers NoReadCap
    assert.deepEqual(await kv(owner, 'not-opened-by-owner', { Get: bytes('k') }), { Err: 'NoReadCap' });
  });

  it('transaction ids are random u64s kept exact, and one table serves every db (kv.rs: state.txs)', async () => {
    await kv(owner, 'a', 'Open');
    await kv(owner, 'b', 'Open');
    const begun = (await kv(owner, 'a', 'BeginTx')) as { BeginTx: { tx_id: number | bigint } };
    const tx = begun.BeginTx.tx_id;
    assert.ok(typeof tx === 'bigint' || Number.isSafeInteger(tx));
    // queued through db "a", committed on db "b": the writes land in "b"
    assert.equal(await kv(owner, 'a', { Set: { key: bytes('t'), tx_id: tx } }, { blob: 'in tx' }), 'Ok');
    assert.deepEqual(await kv(owner, 'a', { Get: bytes('t') }), { Err: 'KeyNotFound' }, 'nothing lands before Commit');
    assert.equal(await kv(owner, 'b', { Commit: { tx_id: tx } }), 'Ok');
    const got = await owner.answer(KV, req('b', { Get: bytes('t') }));
    assert.equal(Buffer.from(got.blob!.base64, 'base64').toString(), 'in tx');
    assert.deepEqual(await kv(owner, 'a', { Get: bytes('t') }), { Err: 'KeyNotFound' });
    // an id above 2^53 comes back digit for digit
    const max = '18446744073709551615';
    const noTx = await owner.answer(KV, `{"package_id":${JSON.stringify(OWNER)},"db":"a","action":{"Commit":{"tx_id":${max}}}}`);
    assert.equal(noTx.body, `{"Err":{"NoTx":${max}}}`);
    assert.equal((await owner.answer(KV, `{"package_id":${JSON.stringify(OWNER)},"db":"a","action":{"Set":{"key":[1],"tx_id":${max}}}}`, { blob: 'x' })).body, `{"Err":{"NoTx":${max}}}`);
  });

  it('a request serde cannot read, or a Set without its blob, is MalformedRequest', async () => {
    for (const body of [
      'not json',
      JSON.stringify(req('a', 'Explode')),
      JSON.stringify(req('a', { Get: 'k' })),
      JSON.stringify(req('a', { Commit: {} })),
      JSON.stringify(req('a', { Commit: { tx_id: -1 } })),
      JSON.stringify({ package_id: 'kv-owner:kit-tests.os', db: 'a', action: 'Open' }), // PackageId is a struct
      JSON.stringify({ package_id: OWNER, action: 'Open' }),
    ])
      assert.deepEqual(JSON.parse((await owner.answer(KV, body)).body), { Err: 'MalformedRequest' }, body);
    assert.deepEqual(await kv(owner, 'a', { Set: { key: bytes('k'), tx_id: null } }), { Err: 'MalformedRequest' });
  });

  // kv.rs also sends an error to a caller that awaits nothing; that Response is delivered by the
  // kernel (test/runtime/kv.test.ts checks that kv sends it).
  it('echoes the request metadata on success only (kv.rs: metadata on the Response, None on Err)', async () => {
    const ok = await owner.answer(KV, req('a', { Set: { key: bytes('m'), tx_id: null } }), { blob: 'x', metadata: 'meta-ok' });
    assert.equal(ok.metadata, 'meta-ok');
    const err = await owner.answer(KV, req('a', { Get: bytes('none') }), { metadata: 'meta-err' });
    assert.equal(err.metadata, null);
  });

  it("beyond Hyperdrive, a db name that is not a plain folder name is refused (kv.rs joins it onto its path unchecked)", async () => {
    const r = (await kv(owner, '../../escape', 'Open')) as { Err: { IOError: string } };
    assert.match(r.Err.IOError, /cannot name a folder/);
  });
});
