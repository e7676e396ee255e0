// The App Store between nodes, as Hyperdrive's mirror protocol runs it (app-store:sys-v2.wit
// `download-request`; hyperdrive/packages/app-store/downloads/src/lib.rs and ft-worker/src/lib.rs):
// three in-process nodes on one network. Each side is also checked against the other side played
// by a test process speaking exactly the real messages, bodies checked field by field against the
// WIT records: our mirror serves a "real" receiving worker (RemoteDownload, then Size and 256 KiB
// Chunk Requests pushed to it), and our downloader takes a package from a "real" mirror (the
// RemoteDownload it sends; the Size/Chunk pushes it accepts; a zip that does not hash right refused).
// Then two of our nodes exchange a package end to end: LocalDownload gets no Response, completion
// reaches main:app-store:sys as a DownloadComplete, and the downloaded package installs and runs.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildFixture, repoRoot } from '../../src/build/componentize.js';
import { type Capability, fromUtf8, type KernelMessage, messagingCap, NETWORK_PARAMS, type ProcessId, parseAddress, systemProcess } from '../../src/core/types.js';
import { makeMessage, sendMessage } from '../../src/node-client/rpc.js';
import { sha256Hex, zipEntries } from '../../src/core/zip.js';
import type { NativeProcess } from '../../src/runtime/kernel/api.js';
import { SendErrorException } from '../../src/runtime/kernel/api.js';
import { bootTestNode, feedPki, ROOT, type TestNode, waitFor } from '../net/helpers.js';

const PKG = { package_name: 'mirrored', publisher_node: 'mirror-a.dev' };
const PKG_ID = 'mirrored:mirror-a.dev';
const CHUNK_SIZE = 262_144;
/** The fields of each WIT record, as serde writes them. */
const WIT = {
  'remote-download-request': ['desired_version_hash', 'package_id', 'worker_address'],
  'size-update': ['package_id', 'size'],
  'chunk-request': ['length', 'offset', 'package_id', 'version_hash'],
  'package-id': ['package_name', 'publisher_node'],
  'download-complete-request': ['err', 'package_id', 'version_hash'],
};
const keys = (o: unknown) => Object.keys(o as object).sort();

/** A native test process recording what it is sent. */
function recorder(id: ProcessId): NativeProcess & { got: KernelMessage[] } {
  const got: KernelMessage[] = [];
  return { id, got, handle: (km) => void got.push(km) };
}

const at = (n: TestNode, p: string) => parseAddress(`${n.name}@${p}`);
const body = (km: KernelMessage) => JSON.parse(fromUtf8((km.message.val as { body: Uint8Array }).body));

describe('App Store mirror protocol between nodes', { timeout: 600_000 }, () => {
  let a: TestNode; // our mirror (the publisher)
  let b: TestNode; // our downloader
  let c: TestNode; // plays a real mirror: its downloads:app-store:sys is a test process
  let zip: Uint8Array;
  let hash: string;
  const worker: ProcessId = { processName: '4242', packageName: 'app-store', publisherNode: 'sys' };

  /** A test process on `n` holding `caps` (network always). */
  async function driver(n: TestNode, id: ProcessId, caps: string[]): Promise<NativeProcess & { got: KernelMessage[] }> {
    const p = recorder(id);
    const all: Capability[] = caps.map((c) => messagingCap(at(n, c)));
    all.push({ issuer: at(n, 'kernel:distro:sys'), params: NETWORK_PARAMS });
    await n.kernel.addNative(p, all);
    return p;
  }
  const ask = async (n: TestNode, from: ProcessId, target: string, req: unknown, blob?: Uint8Array, timeoutSecs = 60) => {
    const r = await n.kernel.request(from, target, JSON.stringify(req), { blob: blob && { bytes: blob }, timeoutSecs });
    return { json: JSON.parse(fromUtf8(r.response.body)), blob: r.blob?.bytes };
  };
  /** An App Store page request, handed to main as http-server hands it. */
  const storeHttp = (n: TestNode, _from: ProcessId, method: string, route: string, params: Record<string, string>, payload?: unknown) =>
    ask(
      n,
      systemProcess('http-server'),
      'our@main:app-store:sys',
      { Http: { source_socket_addr: null, method, url: `http://localhost/main:app-store:sys${route}`, bound_path: `/main:app-store:sys${route}`, headers: {}, url_params: params, query_params: {} } },
      payload === undefined ? undefined : Buffer.from(JSON.stringify(payload)),
    ).then((r) => ({ status: (r.json as { status: number }).status, json: r.blob && r.blob.length > 0 ? JSON.parse(fromUtf8(r.blob)) : undefined }));

  const DRIVER: ProcessId = { processName: 'driver', packageName: 'mirror-test', publisherNode: 'test.os' };

  before(async () => {
    const wasm = await buildFixture(join(repoRoot(), 'test/fixtures/processes/echo.js'), { witPath: join(repoRoot(), 'wit', 'hyperware.wit') });
    const manifest = [
      {
        process_name: 'echo',
        process_wasm_path: '/echo.wasm',
        on_exit: 'Restart',
        request_networking: false,
        request_capabilities: [],
        grant_capabilities: ['http-server:distro:sys'],
        public: false,
      },
    ];
    // Over a MB, so it moves in several chunks: some incompressible padding beside the component.
    const padding = createHash('sha512');
    const pad = Buffer.alloc(1_200_000);
    for (let i = 0; i < pad.length; i += 64) padding.copy().update(String(i)).digest().copy(pad, i);
    zip = zipEntries([
      { path: 'manifest.json', bytes: Buffer.from(JSON.stringify(manifest)), isDir: false },
      { path: 'echo.wasm', bytes: wasm, isDir: false },
      { path: 'padding.bin', bytes: pad, isDir: false },
      { path: 'api.zip', bytes: zipEntries([{ path: 'mirrored:mirror-a.dev-v0.wit', bytes: Buffer.from('interface mirrored {}\n'), isDir: false }]), isDir: false },
    ]);
    hash = sha256Hex(zip);
    a = await bootTestNode('mirror-a.dev');
    b = await bootTestNode('mirror-b.dev');
    c = await bootTestNode('mirror-c.dev');
    feedPki([a, b, c], [a, b, c]);
    for (const n of [a, b]) await driver(n, DRIVER, ['main:app-store:sys', 'downloads:app-store:sys', 'vfs:distro:sys']);
    // The publisher's node holds and mirrors the package (kit start-package sends mirror: true).
    assert.deepEqual((await ask(a, DRIVER, 'our@main:app-store:sys', { NewPackage: { package_id: PKG, mirror: true } }, zip)).json, { NewPackageResponse: 'Success' });
  });

  after(async () => {
    for (const n of [a, b, c]) await n?.node.stop();
    rmSync(ROOT, { recursive: true, force: true });
  });

  it('our mirror answers MirrorCheck from another node, Success or NotMirroring', async () => {
    const probe = await driver(c, { processName: 'probe', packageName: 'mirror-test', publisherNode: 'test.os' }, []);
    assert.equal((await ask(c, probe.id, `${a.name}@downloads:app-store:sys`, { MirrorCheck: PKG })).json, 'Success');
    assert.deepEqual((await ask(c, probe.id, `${a.name}@downloads:app-store:sys`, { MirrorCheck: { ...PKG, package_name: 'other' } })).json, { Err: 'NotMirroring' });
  });

  it('our mirror pushes the zip to a receiving worker as a real one does: Size, then Chunk Requests of 256 KiB', async () => {
    const w = await driver(c, worker, []);
    const req = { RemoteDownload: { package_id: PKG, desired_version_hash: hash, worker_address: `${c.name}@4242:app-store:sys` } };
    assert.deepEqual(keys(req.RemoteDownload), WIT['remote-download-request']);
    assert.equal((await ask(c, worker, `${a.name}@downloads:app-store:sys`, req)).json, 'Success');
    const chunks = Math.ceil(zip.length / CHUNK_SIZE);
    await waitFor(() => w.got.length >= 1 + chunks, `Size and ${chunks} chunks`, 60_000);
    const [size, ...rest] = w.got;
    assert.deepEqual(Object.keys(body(size)), ['Size']);
    assert.deepEqual(keys(body(size).Size), WIT['size-update']);
    assert.deepEqual(body(size).Size, { package_id: PKG, size: zip.length });
    let offset = 0;
    const parts: Uint8Array[] = [];
    for (const km of rest) {
      assert.equal(km.source.node, a.name);
      assert.match(km.source.process.processName, /^\d+$/, 'sent by a <u64>:app-store:sys worker');
      assert.equal((km.message.val as { expectsResponse?: bigint }).expectsResponse, undefined, 'no Response is expected');
      const c = body(km).Chunk;
      assert.deepEqual(keys(c), WIT['chunk-request']);
      assert.deepEqual(keys(c.package_id), WIT['package-id']);
      assert.equal(c.version_hash, hash);
      assert.equal(c.offset, offset);
      assert.equal(c.length, Math.min(CHUNK_SIZE, zip.length - offset));
      assert.equal(km.lazyLoadBlob?.bytes.length, c.length);
      parts.push(km.lazyLoadBlob!.bytes);
      offset += c.length;
    }
    assert.equal(sha256Hex(Buffer.concat(parts)), hash);
  });

  it('our mirror refuses RemoteDownload of a version it lacks (FileNotFound) or a package it does not mirror (NotMirroring)', async () => {
    const req = (pkg: object, h: string) => ({ RemoteDownload: { package_id: pkg, desired_version_hash: h, worker_address: `${c.name}@4242:app-store:sys` } });
    assert.deepEqual((await ask(c, worker, `${a.name}@downloads:app-store:sys`, req(PKG, 'f'.repeat(64)))).json, { Err: 'FileNotFound' });
    assert.deepEqual((await ask(c, worker, `${a.name}@downloads:app-store:sys`, req({ ...PKG, package_name: 'other' }, hash))).json, { Err: 'NotMirroring' });
  });

  describe('our downloader and a real mirror', () => {
    let mirror: NativeProcess & { got: KernelMessage[] };
    let serve: Uint8Array;

    before(async () => {
      // Node c's downloads:app-store:sys is now a stand-in for Hyperdrive's: it answers
      // RemoteDownload with Success and pushes `serve` from a <u64>:app-store:sys worker.
      c.kernel.table.delete('downloads:app-store:sys');
      mirror = await driver(c, { processName: 'downloads', packageName: 'app-store', publisherNode: 'sys' }, []);
      const pusher = await driver(c, { processName: '777', packageName: 'app-store', publisherNode: 'sys' }, []);
      mirror.handle = (km) => {
        mirror.got.push(km);
        const r = body(km).RemoteDownload;
        if (!r) return;
        c.kernel.respond(mirror.id, km, JSON.stringify('Success'));
        const to = parseAddress(r.worker_address);
        c.kernel.tell(pusher.id, to, JSON.stringify({ Size: { package_id: r.package_id, size: serve.length } }));
        for (let offset = 0; offset < serve.length; offset += CHUNK_SIZE) {
          const length = Math.min(CHUNK_SIZE, serve.length - offset);
          const chunk = { Chunk: { package_id: r.package_id, version_hash: r.desired_version_hash, offset, length } };
          c.kernel.tell(pusher.id, to, JSON.stringify(chunk), { blob: { bytes: serve.subarray(offset, offset + length) } });
        }
      };
    });

    const zipPath = (n: TestNode) => join(n.home, 'vfs', 'app-store:sys', 'downloads', PKG_ID, `${hash}.zip`);

    it('refuses a zip that does not hash to the version asked for, and tells main why', async () => {
      serve = Buffer.from(zip);
      serve[serve.length - 40] ^= 0xff;
      b.kernel.tell(DRIVER, 'our@downloads:app-store:sys', JSON.stringify({ LocalDownload: { package_id: PKG, download_from: c.name, desired_version_hash: hash } }));
      const failed = async () => (await storeHttp(b, DRIVER, 'GET', '/updates', {})).json?.[PKG_ID]?.[hash]?.errors ?? [];
      const end = Date.now() + 60_000;
      while ((await failed()).length === 0) {
        assert.ok(Date.now() < end, 'main never heard that the download failed');
        await new Promise((r) => setTimeout(r, 100));
      }
      const [[, err]] = await failed();
      assert.deepEqual(err, { HashMismatch: { desired: hash, actual: sha256Hex(serve) } });
      assert.ok(!existsSync(zipPath(b)), 'the bad bytes were not kept');
      // The RemoteDownload it sent is the WIT record.
      const sent = body(mirror.got[mirror.got.length - 1]).RemoteDownload;
      assert.deepEqual(keys(sent), WIT['remote-download-request']);
      assert.deepEqual(sent.package_id, PKG);
      assert.match(sent.worker_address, new RegExp(`^${b.name}@\\d+:app-store:sys$`));
    });

    it('takes the real bytes: LocalDownload has no Response, the zip and its manifest land in downloads', async () => {
      serve = zip;
      await assert.rejects(
        b.kernel.request(DRIVER, 'our@downloads:app-store:sys', JSON.stringify({ LocalDownload: { package_id: PKG, download_from: c.name, desired_version_hash: hash } }), { timeoutSecs: 1 }),
        (e: unknown) => e instanceof SendErrorException && e.sendError.kind === 'timeout',
        'LocalDownload is not answered (the transfer goes on)',
      );
      const done = async () => {
        const r = await storeHttp(b, DRIVER, 'GET', '/downloads/:id', { id: PKG_ID });
        return (r.json as Array<{ File?: { name: string; manifest: string } }>).find((e) => e.File?.name === `${hash}.zip`)?.File;
      };
      await waitFor(() => existsSync(zipPath(b)), 'the zip in downloads', 60_000);
      const end = Date.now() + 30_000;
      let file = await done();
      while (!file?.manifest && Date.now() < end) file = await done();
      assert.ok(file, 'GetFiles lists it');
      assert.deepEqual(JSON.parse(file.manifest)[0].process_name, 'echo');
      rmSync(join(b.home, 'vfs', 'app-store:sys', 'downloads', PKG_ID), { recursive: true, force: true });
    });
  });

  it('two of our nodes exchange a package through the App Store page path, and it installs and runs', async () => {
    const started = await storeHttp(b, DRIVER, 'POST', '/apps/:id/download', { id: PKG_ID }, { download_from: a.name, version_hash: hash });
    assert.equal(started.status, 200);
    assert.equal(started.json, 'Success');
    const end = Date.now() + 60_000;
    for (;;) {
      const files = (await storeHttp(b, DRIVER, 'GET', '/downloads/:id', { id: PKG_ID })).json as Array<{ File?: { name: string; manifest: string } }>;
      if (Array.isArray(files) && files.some((e) => e.File?.name === `${hash}.zip` && e.File.manifest !== '')) break;
      assert.ok(Date.now() < end, 'the download never completed');
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(b.prints.some((l) => l.includes(`downloaded ${PKG_ID} version ${hash}`)), 'downloads told main it completed');
    const installed = await storeHttp(b, DRIVER, 'POST', '/apps/:id/install', { id: PKG_ID }, { version_hash: hash });
    assert.equal(installed.status, 201);
    // It runs: its process answers over the RPC (it granted http-server).
    const echo = await sendMessage(b.node.url, makeMessage({ process: `echo:${PKG_ID}`, body: 'over the mirror' }), { timeoutMs: 60_000 });
    assert.equal(echo?.body, 'over the mirror');
    const apis = await ask(b, DRIVER, 'our@main:app-store:sys', 'Apis');
    assert.deepEqual(apis.json, { ApisResponse: { apis: [PKG] } });
    const listed = (await storeHttp(b, DRIVER, 'GET', '/installed/:id', { id: PKG_ID })).json as { our_version_hash: string };
    assert.equal(listed.our_version_hash, hash);
  });
});
