// vfs:distro:sys with a small stand-in for the kernel: every action, its JSON answers and errors
// as Hyperdrive's (hyperdrive/src/vfs.rs; test/conformance/vfs.test.ts asserts the same from a
// component), capability rules, and what is ours: confinement to the drive through symlinks and
// zip entries, and no allocation for a ReadExact past the end.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { zipEntries } from '../../src/core/zip.js';
import type { KernelApi, NativeProcess, Reply, RequestOptions } from '../../src/runtime/kernel/api.js';
import { createLogger } from '../../src/core/log.js';
import { createVfs } from '../../src/runtime/modules/vfs/index.js';
import {
  type Capability,
  capabilityKey,
  fromUtf8,
  type KernelMessage,
  type LazyLoadBlob,
  type ProcessId,
  parseProcessId,
  processIdToString,
  utf8,
} from '../../src/core/types.js';

const OUR = 'fake.dev';

/** Records what vfs sends back; capabilities are a plain set per process. */
class TestKernel implements KernelApi {
  readonly our = OUR;
  readonly log = createLogger({ terminal: null, file: null });
  readonly caps = new Map<string, Set<string>>();
  readonly told: Array<{ target: string; body: string }> = [];
  readonly responses = new Map<bigint, { body: string; blob?: LazyLoadBlob }>();
  private nextId = 1n;
  constructor(readonly home: string) {}
  send(): void {}
  newId(): bigint {
    return this.nextId++;
  }
  request(): Promise<Reply> {
    throw new Error('vfs does not await anyone');
  }
  tell(_source: ProcessId, target: unknown, body: Uint8Array | string, _opts?: RequestOptions): void {
    const t = target as { process: ProcessId };
    this.told.push({ target: processIdToString(t.process), body: typeof body === 'string' ? body : fromUtf8(body) });
    // Act like the kernel does on GrantCapabilities.
    const g = JSON.parse(typeof body === 'string' ? body : fromUtf8(body)).GrantCapabilities;
    if (g) for (const c of g.capabilities) this.grant(g.target, { issuer: { node: OUR, process: parseProcessId(c.issuer.split('@')[1]) }, params: c.params });
  }
  respond(_from: ProcessId, to: KernelMessage, body: Uint8Array | string, blob?: LazyLoadBlob): void {
    this.responses.set(to.id, { body: typeof body === 'string' ? body : fromUtf8(body), blob });
  }
  hasCapability(holder: ProcessId, cap: Capability): boolean {
    return this.caps.get(processIdToString(holder))?.has(capabilityKey(cap)) ?? false;
  }
  print(): void {}
  grant(holder: string, cap: Capability): void {
    const set = this.caps.get(holder) ?? new Set();
    set.add(capabilityKey(cap));
    this.caps.set(holder, set);
  }
}

const vfsAddr = { node: OUR, process: parseProcessId('vfs:distro:sys') };
/** The VfsError variant of an answer, or undefined if it was not an error. */
function errKind(r: { body: unknown } | undefined): string | undefined {
  assert.ok(r, 'vfs answered');
  const err = (r.body as { Err?: object }).Err;
  return err && Object.keys(err)[0];
}

const driveCap = (kind: string, drive: string): Capability => ({ issuer: vfsAddr, params: JSON.stringify({ kind, drive }) });

describe('vfs:distro:sys', () => {
  let home: string;
  let kernel: TestKernel;
  let vfs: NativeProcess;

  /** Send one VfsRequest as `source` and return the parsed answer (undefined if none came). */
  async function call(
    source: string,
    path: string,
    action: unknown,
    o: { blob?: Uint8Array; expects?: boolean; node?: string; raw?: string } = {},
  ): Promise<{ body: unknown; blob?: Uint8Array } | undefined> {
    const id = kernel.newId();
    const km: KernelMessage = {
      id,
      source: { node: o.node ?? OUR, process: parseProcessId(source) },
      target: vfsAddr,
      message: {
        tag: 'request',
        val: {
          inherit: false,
          expectsResponse: o.expects === false ? undefined : 5n,
          body: utf8(o.raw ?? JSON.stringify({ path, action })),
          capabilities: [],
        },
      },
      lazyLoadBlob: o.blob ? { bytes: o.blob } : undefined,
    };
    await vfs.handle(km);
    const r = kernel.responses.get(id);
    return r && { body: JSON.parse(r.body), blob: r.blob?.bytes };
  }
  const APP = 'app:chat:template.os';
  const OTHER = 'other:spy:evil.os';
  const ok = async (...args: Parameters<typeof call>) => assert.deepEqual((await call(...args))?.body, 'Ok');

  before(async () => {
    home = mkdtempSync(join(tmpdir(), 'kit-vfs-'));
    kernel = new TestKernel(home);
    vfs = createVfs({ home });
    await vfs.start?.(kernel);
  });
  after(() => rmSync(home, { recursive: true, force: true }));

  it('creates a drive on disk and gives its creator read and write', async () => {
    await ok(APP, '/chat:template.os/data', 'CreateDrive');
    assert.ok(existsSync(join(home, 'vfs/chat:template.os/data')));
    assert.equal(kernel.told.at(-1)?.target, 'kernel:distro:sys');
    const grant = JSON.parse(kernel.told.at(-1)!.body).GrantCapabilities;
    assert.equal(grant.target, APP);
    assert.deepEqual(
      grant.capabilities.map((c: { params: string }) => JSON.parse(c.params)),
      [
        { kind: 'read', drive: '/chat:template.os/data' },
        { kind: 'write', drive: '/chat:template.os/data' },
      ],
    );
    assert.equal(grant.capabilities[0].issuer, `${OUR}@vfs:distro:sys`);
  });

  it('writes and reads whole files, with the bytes in the blob', async () => {
    await ok(APP, '/chat:template.os/data/hello.txt', 'Write', { blob: utf8('hello world') });
    assert.equal(readFileSync(join(home, 'vfs/chat:template.os/data/hello.txt'), 'utf8'), 'hello world');
    const r = await call(APP, 'chat:template.os/data/hello.txt', 'Read'); // leading '/' optional
    assert.equal(r?.body, 'Read');
    assert.equal(fromUtf8(r!.blob!), 'hello world');
    assert.deepEqual((await call(APP, '/chat:template.os/data/hello.txt', 'Len'))?.body, { Len: 11 });
    assert.deepEqual((await call(APP, '/chat:template.os/data/hello.txt', 'Metadata'))?.body, {
      Metadata: { file_type: 'File', len: 11 },
    });
    const hash = (await call(APP, '/chat:template.os/data/hello.txt', 'Hash'))?.body as { Hash: number[] };
    assert.equal(Buffer.from(hash.Hash).toString('hex'), 'b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9');
  });

  it('reads a file bigger than the 10 MB network message limit whole', async () => {
    const big = Buffer.alloc(11 * 1024 * 1024, 0x5a);
    await ok(APP, '/chat:template.os/data/big.bin', 'Write', { blob: big });
    const r = await call(APP, '/chat:template.os/data/big.bin', 'Read');
    assert.equal(r?.blob?.length, big.length);
    await ok(APP, '/chat:template.os/data/big.bin', 'RemoveFile');
  });

  it('answers NoBlob when Write has no blob, IOError with the OS text for a missing file', async () => {
    assert.deepEqual((await call(APP, '/chat:template.os/data/x', 'Write'))?.body, { Err: 'NoBlob' });
    assert.deepEqual((await call(APP, '/chat:template.os/data/missing', 'Read'))?.body, {
      Err: { IOError: 'No such file or directory (os error 2)' },
    });
  });

  it('keeps one cursor per file, shared by every process, for Seek, ReadExact, WriteAll, ReadToEnd', async () => {
    const f = '/chat:template.os/data/cursor.bin';
    await ok(APP, f, { OpenFile: { create: true } });
    await ok(APP, f, 'WriteAll', { blob: utf8('abcdef') });
    await ok(APP, f, 'WriteAll', { blob: utf8('gh') });
    assert.equal(readFileSync(join(home, 'vfs/chat:template.os/data/cursor.bin'), 'utf8'), 'abcdefgh');
    assert.deepEqual((await call(APP, f, { Seek: { Start: 2 } }))?.body, { SeekFrom: { new_offset: 2 } });
    let r = await call(APP, f, { ReadExact: { length: 3 } });
    assert.equal(fromUtf8(r!.blob!), 'cde');
    assert.deepEqual((await call(APP, f, { Seek: { Current: -1 } }))?.body, { SeekFrom: { new_offset: 4 } });
    r = await call(APP, f, 'ReadToEnd');
    assert.equal(fromUtf8(r!.blob!), 'efgh');
    assert.deepEqual((await call(APP, f, { Seek: { End: -2 } }))?.body, { SeekFrom: { new_offset: 6 } });
    assert.deepEqual((await call(APP, f, 'ReadToString'))?.body, { ReadToString: 'gh' });
    // Another process of the same package reads on from the same cursor.
    await call(APP, f, { Seek: { Start: 0 } });
    const sibling = 'worker:chat:template.os';
    assert.equal(fromUtf8((await call(sibling, f, { ReadExact: { length: 2 } }))!.blob!), 'ab');
    assert.deepEqual((await call(APP, f, { Seek: { Current: 0 } }))?.body, { SeekFrom: { new_offset: 2 } });
    // Reading past the end is std's error; a huge length is refused before anything is allocated.
    assert.deepEqual((await call(sibling, f, { ReadExact: { length: 100 } }))?.body, { Err: { IOError: 'failed to fill whole buffer' } });
    const huge = await call(sibling, '', '', { raw: `{"path": "${f}", "action": {"ReadExact": {"length": 18446744073709551615}}}` });
    assert.deepEqual(huge?.body, { Err: { IOError: 'failed to fill whole buffer' } });
    assert.deepEqual((await call(APP, f, { Seek: { Current: -100 } }))?.body, { Err: { IOError: 'Invalid argument (os error 22)' } });
    await ok(APP, f, 'CloseFile');
  });

  it('opens without create only an existing file; CreateFile truncates', async () => {
    const f = '/chat:template.os/data/new.txt';
    assert.deepEqual((await call(APP, f, { OpenFile: { create: false } }))?.body, { Err: { IOError: 'No such file or directory (os error 2)' } });
    await ok(APP, f, 'Write', { blob: utf8('12345') });
    await ok(APP, f, { OpenFile: { create: true } });
    assert.deepEqual((await call(APP, f, 'Len'))?.body, { Len: 5 }, 'OpenFile never truncates');
    await ok(APP, f, 'Append', { blob: utf8('678') });
    assert.equal(readFileSync(join(home, 'vfs/chat:template.os/data/new.txt'), 'utf8'), '12345678');
    await ok(APP, f, { SetLen: 2 });
    assert.equal(readFileSync(join(home, 'vfs/chat:template.os/data/new.txt'), 'utf8'), '12');
    await ok(APP, f, 'SyncAll');
    await ok(APP, f, 'CreateFile');
    assert.deepEqual((await call(APP, f, 'Len'))?.body, { Len: 0 });
  });

  it('makes, lists, renames, copies and removes', async () => {
    const d = '/chat:template.os/data';
    assert.deepEqual((await call(APP, `${d}/a/b`, 'CreateDir'))?.body, { Err: { IOError: 'No such file or directory (os error 2)' } });
    await ok(APP, `${d}/a/b`, 'CreateDirAll');
    await ok(APP, `${d}/a/c`, 'CreateDir');
    assert.deepEqual((await call(APP, `${d}/a/c`, 'CreateDir'))?.body, { Err: { IOError: 'File exists (os error 17)' } });
    await ok(APP, `${d}/a/f.txt`, 'Write', { blob: utf8('f') });
    assert.deepEqual((await call(APP, `${d}/a`, 'ReadDir'))?.body, {
      ReadDir: [
        { path: 'chat:template.os/data/a/b', file_type: 'Directory' },
        { path: 'chat:template.os/data/a/c', file_type: 'Directory' },
        { path: 'chat:template.os/data/a/f.txt', file_type: 'File' },
      ],
    });
    await ok(APP, `${d}/a/f.txt`, { CopyFile: { new_path: `${d}/a/b/g.txt` } });
    await ok(APP, `${d}/a/f.txt`, { Rename: { new_path: `${d}/a/c/h.txt` } });
    assert.ok(existsSync(join(home, 'vfs/chat:template.os/data/a/b/g.txt')));
    assert.ok(existsSync(join(home, 'vfs/chat:template.os/data/a/c/h.txt')));
    assert.ok(!existsSync(join(home, 'vfs/chat:template.os/data/a/f.txt')));
    assert.deepEqual((await call(APP, `${d}/a/c`, 'RemoveDir'))?.body, { Err: { IOError: 'Directory not empty (os error 39)' } });
    await ok(APP, `${d}/a/c/h.txt`, 'RemoveFile');
    await ok(APP, `${d}/a/c`, 'RemoveDir');
    await ok(APP, `${d}/a`, 'RemoveDirAll');
    assert.ok(!existsSync(join(home, 'vfs/chat:template.os/data/a')));
  });

  it('unpacks a zip with AddZip and refuses one with an escaping entry (ours: Hyperdrive writes it)', async () => {
    const zip = zipEntries([
      { path: 'manifest.json', bytes: utf8('[]'), isDir: false },
      { path: 'ui/', bytes: new Uint8Array(), isDir: true },
      { path: 'ui/index.html', bytes: utf8('<p>hi</p>'), isDir: false },
    ]);
    await ok(APP, '/chat:template.os/pkg', 'AddZip', { blob: zip });
    assert.equal(readFileSync(join(home, 'vfs/chat:template.os/pkg/ui/index.html'), 'utf8'), '<p>hi</p>');

    // Hand-made zip whose only entry climbs out.
    const evil = Buffer.from(zipEntries([{ path: 'aa/evil.txt', bytes: utf8('x'), isDir: false }]));
    evil.write('../evil.txt', evil.indexOf('aa/evil.txt'));
    evil.write('../evil.txt', evil.lastIndexOf('aa/evil.txt'));
    const r = (await call(APP, '/chat:template.os/pkg', 'AddZip', { blob: evil }))?.body as { Err: { ParseError: { error: string } } };
    assert.match(r.Err.ParseError.error, /\.\.\/evil\.txt/);
    assert.ok(!existsSync(join(home, 'vfs/chat:template.os/evil.txt')));
  });

  it('refuses other packages without a capability, and honours read, write and root caps', async () => {
    const f = '/chat:template.os/data/hello.txt';
    assert.deepEqual((await call(OTHER, f, 'Read'))?.body, { Err: 'NoReadCap' });
    kernel.grant(OTHER, driveCap('read', '/chat:template.os/data'));
    assert.equal((await call(OTHER, f, 'Read'))?.body, 'Read');
    assert.deepEqual((await call(OTHER, f, 'Write', { blob: utf8('pwned') }))?.body, { Err: 'NoWriteCap' });
    kernel.grant(OTHER, driveCap('write', '/chat:template.os/data'));
    await ok(OTHER, '/chat:template.os/data/from-other.txt', 'Write', { blob: utf8('hi') });
    // A cap on one drive says nothing about another drive of the same package.
    assert.deepEqual((await call(OTHER, '/chat:template.os/pkg/manifest.json', 'Read'))?.body, { Err: 'NoReadCap' });
    // A cap issued by someone other than vfs is worth nothing.
    kernel.grant(OTHER, { issuer: { node: OUR, process: parseProcessId('app:chat:template.os') }, params: '{"root":true}' });
    assert.deepEqual((await call(OTHER, '/chat:template.os/pkg/manifest.json', 'Read'))?.body, { Err: 'NoReadCap' });
    kernel.grant(OTHER, { issuer: vfsAddr, params: '{"root":true}' });
    assert.equal((await call(OTHER, '/chat:template.os/pkg/manifest.json', 'Read'))?.body, 'Read');
  });

  it('lets only root create a drive for another package', async () => {
    const p = '/chat:template.os/stolen';
    assert.deepEqual((await call('x:intruder:evil.os', p, 'CreateDrive'))?.body, { Err: 'NoWriteCap' });
    assert.ok(!existsSync(join(home, 'vfs/chat:template.os/stolen')));
    await ok(OTHER, p, 'CreateDrive'); // OTHER holds root by now
    const last = JSON.parse(kernel.told.at(-1)!.body).GrantCapabilities;
    assert.equal(last.target, OTHER);
  });

  it('never leaves the VFS or (ours) the drive: .. out of the VFS, bad package IDs and symlinks out are refused', async () => {
    assert.equal((await call(APP, '/chat:template.os/data/../pkg/manifest.json', 'Read'))?.body, 'Read', '.. inside the VFS is fine');
    assert.deepEqual((await call(APP, '/chat:template.os/../../etc/passwd', 'Read'))?.body, { Err: 'MalformedRequest' });
    assert.deepEqual((await call(APP, '/not-a-package/data/x', 'Read'))?.body, { Err: 'MalformedRequest' });
    assert.deepEqual((await call(APP, '/chat:template.os', 'ReadDir'))?.body, { Err: 'NoReadCap' }, 'listing a package is for root');

    const outside = mkdtempSync(join(tmpdir(), 'kit-vfs-outside-'));
    try {
      writeFileSync(join(outside, 'secret'), 'secret');
      symlinkSync(outside, join(home, 'vfs/chat:template.os/data/escape'));
      const r = (await call(APP, '/chat:template.os/data/escape/secret', 'Read'))?.body as { Err: { ParseError: { error: string } } };
      assert.match(r.Err.ParseError.error, /outside its drive/);
      const w = await call(APP, '/chat:template.os/data/escape/new', 'Write', { blob: utf8('x') });
      assert.equal(errKind(w), 'ParseError');
      assert.ok(!existsSync(join(outside, 'new')));
      // A symlink into another drive of the package is outside this drive too.
      mkdirSync(join(home, 'vfs/chat:template.os/private'), { recursive: true });
      writeFileSync(join(home, 'vfs/chat:template.os/private/key'), 'k');
      symlinkSync(join(home, 'vfs/chat:template.os/private'), join(home, 'vfs/chat:template.os/data/side'));
      kernel.grant('reader:other:x.os', driveCap('read', '/chat:template.os/data'));
      const s = await call('reader:other:x.os', '/chat:template.os/data/side/key', 'Read');
      assert.equal(errKind(s), 'ParseError');
      // AddZip through the symlinked folder is refused and writes nothing outside.
      const zip = zipEntries([{ path: 'escape/planted', bytes: utf8('x'), isDir: false }]);
      assert.equal(errKind(await call(APP, '/chat:template.os/data', 'AddZip', { blob: zip })), 'ParseError');
      assert.ok(!existsSync(join(outside, 'planted')));
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('answers bad JSON and unknown actions MalformedRequest, as serde does', async () => {
    assert.deepEqual((await call(APP, '', '', { raw: 'not json' }))?.body, { Err: 'MalformedRequest' });
    assert.deepEqual((await call(APP, '/chat:template.os/data/x', 'Explode'))?.body, { Err: 'MalformedRequest' });
    assert.deepEqual((await call(APP, '/chat:template.os/data/hello.txt', { SetLen: 2 ** 53 + 2 }))?.body, { Err: { IOError: 'File too large (os error 27)' } });
  });

  it('sends errors only to callers that expect a response, and ignores other nodes', async () => {
    assert.equal(await call(APP, '/chat:template.os/data/missing', 'Read', { expects: false }), undefined);
    assert.equal(await call(APP, '/chat:template.os/data/hello.txt', 'Read', { node: 'remote.os' }), undefined);
    await call(APP, '/chat:template.os/data/quiet.txt', 'Write', { blob: utf8('q'), expects: false });
    assert.ok(existsSync(join(home, 'vfs/chat:template.os/data/quiet.txt')), 'fire-and-forget still acts');
    await call(APP, '/chat:template.os/data/remote.txt', 'Write', { blob: utf8('q'), node: 'remote.os' });
    assert.ok(!existsSync(join(home, 'vfs/chat:template.os/data/remote.txt')));
  });

  it('checks runtime modules like any process; only the kernel goes unchecked (vfs.rs: source != KERNEL_PROCESS_ID)', async () => {
    assert.deepEqual((await call('http-server:distro:sys', '/tester:sys/tests/a.wasm', 'CreateDrive'))?.body, { Err: 'NoWriteCap' });
    await ok('kernel:distro:sys', '/tester:sys/tests', 'CreateDrive');
    kernel.grant('http-server:distro:sys', driveCap('write', '/tester:sys/tests'));
    await ok('http-server:distro:sys', '/tester:sys/tests/a.wasm', 'Write', { blob: utf8('wasm') });
    assert.deepEqual((await call('http-server:distro:sys', '/tester:sys/tests', 'ReadDir'))?.body, { Err: 'NoReadCap' });
    assert.deepEqual((await call('kernel:distro:sys', '/tester:sys/tests', 'ReadDir'))?.body, {
      ReadDir: [{ path: 'tester:sys/tests/a.wasm', file_type: 'File' }],
    });
  });
});
