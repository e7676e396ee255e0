// vfs:distro:sys on a real booted node: over the kit RPC as `kit run-tests` uses it, and from a
// real process (the probe fixture, installed through the App Store) whose drive access is
// governed by capabilities.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildFixture, repoRoot } from '../../src/build/componentize.js';
import { makeMessage, sendMessage } from '../../src/node-client/rpc.js';
import { sha256Hex, zipEntries } from '../../src/core/zip.js';
import type { Kernel } from '../../src/runtime/kernel/kernel.js';
import { createLogger } from '../../src/core/log.js';
import { bootNode, type RunningNode } from '../../src/runtime/node.js';
import { type Capability, fromUtf8, messagingCap, parseAddress, type ProcessId, parseProcessId } from '../../src/core/types.js';

const OUR = 'fake.dev';
const DRIVER: ProcessId = { processName: 'driver', packageName: 'vfs-test', publisherNode: 'kit.os' };
/** The probe fixture reports every Response it gets to this process. */
const OBSERVER: ProcessId = { processName: 'observer', packageName: 'test', publisherNode: 'sys' };
const PKG = { package_name: 'probe-pkg', publisher_node: 'test.os' };
const PROBE = 'probe:probe-pkg:test.os';

describe('vfs:distro:sys on a booted node', { timeout: 600_000 }, () => {
  let work: string;
  let node: RunningNode;
  const reports: Array<{ event: string; body?: string; blob?: string | null }> = [];

  const ask = async (process: string, body: unknown, blob?: Uint8Array) => {
    const r = await node.kernel.request(DRIVER, process, JSON.stringify(body), { blob: blob && { bytes: blob }, timeoutSecs: 120 });
    return { body: JSON.parse(fromUtf8(r.response.body)) as unknown, blob: r.blob?.bytes };
  };

  /** Have the probe send a VfsRequest and wait: returns vfs's answer and the blob that came with it. */
  async function viaProbe(path: string, action: unknown, blob?: string): Promise<{ body: unknown; blob: string | null }> {
    const from = reports.length;
    const r = await ask(PROBE, {
      op: 'request',
      target: `${OUR}@vfs:distro:sys`,
      body: JSON.stringify({ path, action }),
      expects: 10,
      blob,
    });
    const answered = String(r.body);
    assert.ok(answered.startsWith('after:'), `probe answered ${answered}`);
    const report = reports.slice(from).find((e) => e.event === 'response');
    assert.ok(report, 'the probe saw a Response from vfs');
    return { body: JSON.parse(answered.slice('after:'.length)), blob: report.blob ?? null };
  }

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'kit-vfs-node-'));
    const wasm = await buildFixture(join(repoRoot(), 'test/fixtures/processes/probe.js'), {
      // Only the process world: other WIT folders in the repo are not this fixture's business.
      witPath: join(repoRoot(), 'wit', 'hyperware.wit'),
    });
    node = await bootNode({ home: join(work, 'home'), port: 0, name: OUR, log: createLogger({ terminal: null, file: null }) });
    const kernel = node.kernel as unknown as Kernel;
    await kernel.addNative({
      id: OBSERVER,
      isPublic: true,
      handle(km) {
        if (km.message.tag === 'request') reports.push(JSON.parse(fromUtf8(km.message.val.body)));
      },
    });
    const caps: Capability[] = ['main:app-store:sys', 'vfs:distro:sys', 'kernel:distro:sys'].map((p) =>
      messagingCap(parseAddress(`${OUR}@${p}`)),
    );
    caps.push({ issuer: parseAddress(`${OUR}@vfs:distro:sys`), params: '{"root":true}' });
    await kernel.addNative({ id: DRIVER, handle() {} }, caps);
    kernel.grant(parseProcessId('main:app-store:sys'), [messagingCap({ node: OUR, process: DRIVER })]); // so the app store may answer it

    const manifest = [
      {
        process_name: 'probe',
        process_wasm_path: '/probe.wasm',
        on_exit: 'Restart',
        request_networking: false,
        // the driver may message it, and it may answer the driver
        request_capabilities: ['vfs:distro:sys', 'driver:vfs-test:kit.os'],
        grant_capabilities: ['driver:vfs-test:kit.os'],
        public: false,
      },
    ];
    const zip = zipEntries([
      { path: 'manifest.json', bytes: Buffer.from(JSON.stringify(manifest)), isDir: false },
      { path: 'probe.wasm', bytes: wasm, isDir: false },
    ]);
    assert.deepEqual((await ask('main:app-store:sys', { NewPackage: { package_id: PKG, mirror: true } }, zip)).body, {
      NewPackageResponse: 'Success',
    });
    assert.deepEqual(
      (await ask('main:app-store:sys', { Install: { package_id: PKG, version_hash: sha256Hex(zip), metadata: null } })).body,
      { InstallResponse: 'Success' },
    );
  });

  after(async () => {
    await node?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('serves kit run-tests over the RPC: ReadDir, then Write of test wasm', async () => {
    const rpc = (path: string, action: string, blob?: Uint8Array) =>
      sendMessage(node.url, makeMessage({ process: 'vfs:distro:sys', body: JSON.stringify({ path, action }), blob }), {
        timeoutMs: 30_000,
      });
    // kit waits for any JSON answer; as on Hyperdrive the tester gave the RPC (http-server) write,
    // not read, on its drives, so the ReadDir is NoReadCap and creating a drive NoWriteCap.
    assert.deepEqual(JSON.parse((await rpc('/tester:sys/tests', 'ReadDir'))!.body), { Err: 'NoReadCap' });
    assert.equal((await rpc('/tester:sys/tests', 'CreateDrive'))?.body, '{"Err":"NoWriteCap"}');
    assert.equal((await rpc('/tester:sys/tests/my_test.wasm', 'Write', Buffer.from('wasm bytes')))?.body, '"Ok"');
    assert.equal(readFileSync(join(node.home, 'vfs/tester:sys/tests/my_test.wasm'), 'utf8'), 'wasm bytes');
  });

  it('lets a process make a drive of its own package, write and read it', async () => {
    assert.equal((await viaProbe('/probe-pkg:test.os/data', 'CreateDrive')).body, 'Ok');
    assert.equal((await viaProbe('/probe-pkg:test.os/data/note.txt', 'Write', 'hello from a process')).body, 'Ok');
    assert.equal(readFileSync(join(node.home, 'vfs/probe-pkg:test.os/data/note.txt'), 'utf8'), 'hello from a process');
    const read = await viaProbe('/probe-pkg:test.os/data/note.txt', 'Read');
    assert.equal(read.body, 'Read');
    assert.equal(read.blob, 'hello from a process');
    // Its pkg drive holds what the App Store unpacked.
    const listed = (await viaProbe('/probe-pkg:test.os/pkg', 'ReadDir')).body as { ReadDir: Array<{ path: string }> };
    assert.ok(listed.ReadDir.some((e) => e.path === 'probe-pkg:test.os/pkg/manifest.json'));
  });

  it('gives the drive creator read and write capabilities', async () => {
    const caps = (await ask(PROBE, { op: 'caps' })).body as Array<{ issuer: string; params: string }>;
    const mine = caps.filter((c) => c.issuer === `${OUR}@vfs:distro:sys`).map((c) => JSON.parse(c.params));
    assert.ok(mine.some((p) => p.kind === 'read' && p.drive === '/probe-pkg:test.os/data'));
    assert.ok(mine.some((p) => p.kind === 'write' && p.drive === '/probe-pkg:test.os/data'));
  });

  it("refuses another package's drive until the kernel grants a capability for it", async () => {
    const shared = '/other-pkg:test.os/shared';
    assert.equal((await ask('vfs:distro:sys', { path: shared, action: 'CreateDrive' })).body, 'Ok');
    assert.equal((await ask('vfs:distro:sys', { path: `${shared}/doc.txt`, action: 'Write' }, Buffer.from('shared doc'))).body, 'Ok');

    assert.deepEqual((await viaProbe(`${shared}/doc.txt`, 'Read')).body, { Err: 'NoReadCap' });
    assert.deepEqual((await viaProbe('/other-pkg:test.os/mine', 'CreateDrive')).body, { Err: 'NoWriteCap' });
    assert.ok(!existsSync(join(node.home, 'vfs/other-pkg:test.os/mine')));

    const read = { issuer: `${OUR}@vfs:distro:sys`, params: JSON.stringify({ kind: 'read', drive: shared }) };
    node.kernel.tell(DRIVER, 'kernel:distro:sys', JSON.stringify({ GrantCapabilities: { target: PROBE, capabilities: [read] } }));
    const r = await viaProbe(`${shared}/doc.txt`, 'Read');
    assert.equal(r.body, 'Read');
    assert.equal(r.blob, 'shared doc');
    assert.deepEqual((await viaProbe(`${shared}/doc.txt`, 'Write', 'overwritten')).body, { Err: 'NoWriteCap' });
    assert.equal(readFileSync(join(node.home, 'vfs/other-pkg:test.os/shared/doc.txt'), 'utf8'), 'shared doc');
  });
});
