// kv:distro:sys inside a real kernel: native test processes send every KvAction of the book and
// check the answers, the capabilities the kernel ends up holding, the errors and atomic commits.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ClassicLevel } from 'classic-level';
import { parseJsonExact, stringifyJsonExact } from '../../src/core/json.js';
import type { NativeProcess, Reply } from '../../src/runtime/kernel/api.js';
import type { Kernel } from '../../src/runtime/kernel/kernel.js';
import { createKv, dbCapParams } from '../../src/runtime/modules/kv/index.js';
import { fromUtf8, type KernelMessage, messagingCap, parseProcessId, utf8 } from '../../src/core/types.js';
import { bareKernel } from './helpers.js';

const OUR = 'fake.dev';
const KV = { node: OUR, process: parseProcessId('kv:distro:sys') };
const APP = parseProcessId('app:chat:template.os');
const PEER = parseProcessId('peer:chat:template.os');
const SPY = parseProcessId('spy:other:evil.os');
const PKG = { package_name: 'chat', publisher_node: 'template.os' };

function native(id: ReturnType<typeof parseProcessId>): NativeProcess {
  return { id, handle(_km: KernelMessage) {} };
}

describe('kv:distro:sys', () => {
  let home: string;
  let kernel: Kernel;

  async function call(source = APP, action: unknown, o: { value?: string; db?: string; pkg?: unknown } = {}): Promise<{ body: unknown; blob?: string }> {
    const body = stringifyJsonExact({ package_id: o.pkg ?? PKG, db: o.db ?? 'main', action });
    const r: Reply = await kernel.request(source, KV, body, { blob: o.value === undefined ? undefined : { bytes: utf8(o.value) } });
    return { body: parseJsonExact(fromUtf8(r.response.body)), blob: r.blob && fromUtf8(r.blob.bytes) };
  }
  const key = (s: string) => Array.from(utf8(s));

  before(async () => {
    home = mkdtempSync(join(tmpdir(), 'kit-kv-'));
    kernel = bareKernel(OUR, home);
    await kernel.addNative(createKv({ home }), [messagingCap({ node: OUR, process: parseProcessId('kernel:distro:sys') })]);
    for (const p of [APP, PEER, SPY]) await kernel.addNative(native(p), [messagingCap(KV)]);
    // ...each granting kv, so that its answers reach them (every Response is capability-checked)
    for (const p of [APP, PEER, SPY]) kernel.grant(KV.process, [messagingCap({ node: OUR, process: p })]);
  });
  after(async () => {
    await kernel.shutdown();
    rmSync(home, { recursive: true, force: true });
  });

  it('Open creates the db on disk and grants the opener read and write', async () => {
    assert.deepEqual((await call(APP, 'Open')).body, 'Ok');
    assert.ok(existsSync(join(home, 'kv/chat:template.os/main')));
    await new Promise((r) => setTimeout(r, 10));
    for (const kind of ['read', 'write'] as const)
      assert.ok(kernel.hasCapability(APP, { issuer: KV, params: dbCapParams(kind, { packageName: 'chat', publisherNode: 'template.os' }, 'main') }));
    assert.equal(kernel.hasCapability(PEER, { issuer: KV, params: dbCapParams('read', { packageName: 'chat', publisherNode: 'template.os' }, 'main') }), false);
  });

  it('Set stores the blob, Get returns it in the blob, Delete removes it', async () => {
    assert.deepEqual((await call(APP, { Set: { key: key('hello'), tx_id: null } }, { value: 'world' })).body, 'Ok');
    const got = await call(APP, { Get: key('hello') });
    assert.deepEqual(got.body, { Get: key('hello') });
    assert.equal(got.blob, 'world');
    assert.deepEqual((await call(APP, { Delete: { key: key('hello'), tx_id: null } })).body, 'Ok');
    assert.deepEqual((await call(APP, { Get: key('hello') })).body, { Err: 'KeyNotFound' });
  });

  it('applies a transaction only on Commit, all at once', async () => {
    await call(APP, { Set: { key: key('keep'), tx_id: null } }, { value: 'old' });
    const begun = (await call(APP, 'BeginTx')).body as { BeginTx: { tx_id: number | bigint } };
    const tx = begun.BeginTx.tx_id;
    assert.ok(typeof tx === 'bigint' || Number.isSafeInteger(tx), 'a u64, exact');
    assert.deepEqual((await call(APP, { Set: { key: key('a'), tx_id: tx } }, { value: '1' })).body, 'Ok');
    assert.deepEqual((await call(APP, { Delete: { key: key('keep'), tx_id: tx } })).body, 'Ok');
    assert.deepEqual((await call(APP, { Get: key('a') })).body, { Err: 'KeyNotFound' }, 'nothing lands before Commit');
    assert.equal((await call(APP, { Get: key('keep') })).blob, 'old');
    assert.deepEqual((await call(APP, { Commit: { tx_id: tx } })).body, 'Ok');
    assert.equal((await call(APP, { Get: key('a') })).blob, '1');
    assert.deepEqual((await call(APP, { Get: key('keep') })).body, { Err: 'KeyNotFound' });
    assert.deepEqual((await call(APP, { Commit: { tx_id: tx } })).body, { Err: { NoTx: tx } }, 'a committed tx is gone');
  });

  it('answers NoTx for a transaction that does not exist, and writes nothing', async () => {
    assert.deepEqual((await call(APP, { Set: { key: key('ghost'), tx_id: 42 } }, { value: 'x' })).body, { Err: { NoTx: 42 } });
    assert.deepEqual((await call(APP, { Get: key('ghost') })).body, { Err: 'KeyNotFound' });
  });

  it('refuses other processes without capabilities, and lets them in with them', async () => {
    assert.deepEqual((await call(SPY, { Get: key('a') })).body, { Err: 'NoReadCap' });
    assert.deepEqual((await call(SPY, { Set: { key: key('a'), tx_id: null } }, { value: 'evil' })).body, { Err: 'NoWriteCap' });
    assert.deepEqual((await call(SPY, 'BeginTx')).body, { Err: 'NoWriteCap' });
    assert.deepEqual((await call(SPY, 'Open')).body, { Err: 'MismatchingPackageId' });
    assert.deepEqual((await call(SPY, 'RemoveDb')).body, { Err: 'MismatchingPackageId' });
    const pkg = { packageName: 'chat', publisherNode: 'template.os' };
    kernel.grant(SPY, [{ issuer: KV, params: dbCapParams('read', pkg, 'main') }]);
    assert.equal((await call(SPY, { Get: key('a') })).blob, '1');
    assert.deepEqual((await call(SPY, { Delete: { key: key('a'), tx_id: null } })).body, { Err: 'NoWriteCap' }, 'read does not give write');
  });

  it('opens (creates) a db on any request from a holder of its capability: no NoDb (kv.rs: "always open to ensure db exists")', async () => {
    kernel.grant(APP, [{ issuer: KV, params: dbCapParams('read', { packageName: 'chat', publisherNode: 'template.os' }, 'nope') }]);
    assert.deepEqual((await call(APP, { Get: key('x') }, { db: 'nope' })).body, { Err: 'KeyNotFound' });
    assert.ok(existsSync(join(home, 'kv/chat:template.os/nope')));
  });

  it('answers MalformedRequest to bad JSON, bad keys, unknown actions and a Set without a blob', async () => {
    const raw = async (body: string) => JSON.parse(fromUtf8((await kernel.request(APP, KV, body)).response.body));
    assert.deepEqual(await raw('not json'), { Err: 'MalformedRequest' });
    assert.deepEqual(await raw(JSON.stringify({ package_id: 'chat:template.os', db: 'main', action: 'Open' })), { Err: 'MalformedRequest' }, 'PackageId is a struct');
    const escaping = (await raw(JSON.stringify({ package_id: PKG, db: '../escape', action: 'Open' }))) as { Err: { IOError: string } };
    assert.match(escaping.Err.IOError, /db "..\/escape" cannot name a folder/);
    assert.deepEqual((await call(APP, { Get: 'str' })).body, { Err: 'MalformedRequest' });
    assert.deepEqual((await call(APP, { Get: [300] })).body, { Err: 'MalformedRequest' });
    assert.deepEqual((await call(APP, 'Frobnicate')).body, { Err: 'MalformedRequest' });
    assert.deepEqual((await call(APP, { Set: { key: key('k'), tx_id: null } })).body, { Err: 'MalformedRequest' });
    assert.ok(!existsSync(join(home, 'kv/chat:template.os/../escape')));
  });

  it('keeps data on disk in a LevelDB that survives the module, and RemoveDb empties it', async () => {
    await call(APP, 'Open', { db: 'durable' });
    assert.deepEqual((await call(APP, { Set: { key: key('k'), tx_id: null } }, { value: 'v', db: 'durable' })).body, 'Ok');
    await kernel.shutdown(); // closes the db
    const dir = join(home, 'kv/chat:template.os/durable');
    const level = new ClassicLevel<string, string>(dir);
    assert.equal(await level.get('k'), 'v');
    await level.close();
    // a fresh kernel and module find it again
    kernel = bareKernel(OUR, home);
    await kernel.addNative(createKv({ home }), [messagingCap({ node: OUR, process: parseProcessId('kernel:distro:sys') })]);
    await kernel.addNative(native(APP), [messagingCap(KV), { issuer: KV, params: dbCapParams('read', { packageName: 'chat', publisherNode: 'template.os' }, 'durable') }]);
    kernel.grant(KV.process, [messagingCap({ node: OUR, process: APP })]);
    assert.equal((await call(APP, { Get: key('k') }, { db: 'durable' })).blob, 'v');
    assert.deepEqual((await call(APP, 'RemoveDb', { db: 'durable' })).body, 'Ok');
    assert.deepEqual((await call(APP, { Get: key('k') }, { db: 'durable' })).body, { Err: 'KeyNotFound' });
  });

  it('sends an error even to a caller that awaits nothing, and a success only to one that awaits it (kv.rs)', async () => {
    const own = mkdtempSync(join(tmpdir(), 'kit-kv-err-'));
    const kv = createKv({ home: own });
    const answers: Array<{ body: string; metadata?: string; mime?: string }> = [];
    const k = {
      our: OUR,
      respond: (_from: unknown, _to: unknown, body: string, blob?: { mime?: string }, metadata?: string) => answers.push({ body, metadata, mime: blob?.mime }),
      tell() {},
      print() {},
      hasCapability: () => false,
      log: { debug() {}, info() {} },
    } as unknown as Parameters<NonNullable<typeof kv.start>>[0];
    await kv.start?.(k);
    const km = (action: unknown, expects: bigint | undefined) =>
      ({
        id: 1n,
        source: { node: OUR, process: APP },
        target: KV,
        message: { tag: 'request', val: { inherit: false, expectsResponse: expects, body: utf8(JSON.stringify({ package_id: PKG, db: 'q', action })), metadata: 'md', capabilities: [] } },
      }) as unknown as KernelMessage;
    await kv.handle(km({ Get: key('x') }, undefined));
    await kv.handle(km('Open', undefined));
    await kv.handle(km('Open', 5n));
    assert.deepEqual(answers, [{ body: '{"Err":"NoReadCap"}', metadata: undefined, mime: undefined }, { body: '"Ok"', metadata: 'md', mime: undefined }]);
    await kv.stop?.();
    rmSync(own, { recursive: true, force: true });
  });

  it('Sets the module received before it stops are all answered and on disk', async () => {
    // stop() must serve what is queued before closing the db (it used to close under them).
    const own = mkdtempSync(join(tmpdir(), 'kit-kv-stop-'));
    const kv = createKv({ home: own });
    const answers: string[] = [];
    const k = {
      our: OUR,
      respond: (_from: unknown, _to: unknown, body: string) => answers.push(body),
      tell() {},
      print() {},
      hasCapability: () => true,
      log: { debug() {}, info() {} },
    } as unknown as Parameters<NonNullable<typeof kv.start>>[0];
    await kv.start?.(k);
    const km = (action: unknown, value?: string) =>
      ({
        id: 1n,
        source: { node: OUR, process: APP },
        target: KV,
        message: { tag: 'request', val: { inherit: false, expectsResponse: 5n, body: utf8(JSON.stringify({ package_id: PKG, db: 'late', action })), capabilities: [] } },
        lazyLoadBlob: value === undefined ? undefined : { bytes: utf8(value) },
      }) as unknown as KernelMessage;
    await kv.handle(km('Open'));
    const sets = Array.from({ length: 50 }, (_, i) => kv.handle(km({ Set: { key: key(`k${i}`), tx_id: null } }, `v${i}`)));
    await Promise.race([sets.at(-1), new Promise((r) => setTimeout(r, 0))]);
    await kv.stop?.();
    await Promise.all(sets);
    assert.equal(answers.filter((a) => a === '"Ok"').length, 51);
    const level = new ClassicLevel<string, string>(join(own, 'kv/chat:template.os/late'));
    await level.open();
    assert.equal(await level.get('k49'), 'v49');
    await level.close();
    rmSync(own, { recursive: true, force: true });
  });
});
