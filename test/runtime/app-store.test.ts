// main:app-store:sys on a real booted node: NewPackage / Install / Uninstall / Apis / GetApi as
// kit sends them (interop §2.4-2.5), with a real component, and the failure paths where a bad
// package must install nothing.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildFixture, repoRoot } from '../../src/build/componentize.js';
import { makeMessage, sendMessage } from '../../src/node-client/rpc.js';
import { sha256Hex, type ZipEntry, zipEntries } from '../../src/core/zip.js';
import type { Kernel } from '../../src/runtime/kernel/kernel.js';
import { createLogger } from '../../src/core/log.js';
import { bootNode, type RunningNode } from '../../src/runtime/node.js';
import { type Capability, fromUtf8, type KernelMessage, messagingCap, parseAddress, type ProcessId, parseProcessId } from '../../src/core/types.js';

const OUR = 'fake.dev';
/** The test talks as a process of its own, holding only the caps it is given here. */
const TEST: ProcessId = { processName: 'driver', packageName: 'app-store-test', publisherNode: 'kit.os' };
const PKG = { package_name: 'echo-pkg', publisher_node: 'test.os' };
const PKG_ID = 'echo-pkg:test.os';
const ECHO = `echo:${PKG_ID}`;

const file = (path: string, content: string | Uint8Array): ZipEntry => ({
  path,
  bytes: typeof content === 'string' ? Buffer.from(content) : content,
  isDir: false,
});

function manifest(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify([
    {
      process_name: 'echo',
      process_wasm_path: '/echo.wasm',
      on_exit: 'Restart',
      request_networking: true,
      // http-server both ways: it may message the process (kit's RPC), the process may answer it.
      request_capabilities: ['vfs:distro:sys', 'http-server:distro:sys', { process: 'timer:distro:sys', params: 'messaging' }],
      grant_capabilities: ['http-server:distro:sys'],
      public: false,
      ...overrides,
    },
  ]);
}

interface TestNode {
  node: RunningNode;
  lines: string[];
  ask(process: string, body: unknown, blob?: Uint8Array): Promise<{ body: unknown; blob?: Uint8Array; mime?: string }>;
}

async function boot(home: string, persist = false): Promise<TestNode> {
  const lines: string[] = [];
  const log = createLogger({ terminal: (_l, line) => lines.push(line), file: null });
  const node = await bootNode({ home, port: 0, name: OUR, persist, log });
  const caps: Capability[] = ['main:app-store:sys', 'vfs:distro:sys', 'kernel:distro:sys'].map((p) =>
    messagingCap(parseAddress(`${OUR}@${p}`)),
  );
  // Root on vfs, to plant files where kit never could (a damaged zip in downloads).
  caps.push({ issuer: parseAddress(`${OUR}@vfs:distro:sys`), params: '{"root":true}' });
  await (node.kernel as unknown as Kernel).addNative({ id: TEST, handle() {} }, caps);
  // ...and the app store may answer it (every Response is capability-checked).
  (node.kernel as unknown as Kernel).grant(parseProcessId('main:app-store:sys'), [messagingCap({ node: OUR, process: TEST })]);
  return {
    node,
    lines,
    async ask(process, body, blob) {
      const r = await node.kernel.request(TEST, process, JSON.stringify(body), {
        blob: blob && { bytes: blob },
        timeoutSecs: 120,
      });
      return { body: JSON.parse(fromUtf8(r.response.body)), blob: r.blob?.bytes, mime: r.blob?.mime };
    },
  };
}

describe('main:app-store:sys', { timeout: 600_000 }, () => {
  let work: string;
  let t: TestNode;
  let wasm: Uint8Array;

  const store = async (body: unknown, blob?: Uint8Array) => (await t.ask('main:app-store:sys', body, blob)).body;
  const newPackage = (zip?: Uint8Array) => store({ NewPackage: { package_id: PKG, mirror: true } }, zip);
  const install = (zip: Uint8Array) =>
    store({ Install: { package_id: PKG, version_hash: sha256Hex(zip), metadata: { properties: { wit_version: 1 } } } });
  const processes = async () => {
    const r = (await t.ask('kernel:distro:sys', { Debug: 'ProcessMap' })).body as { Debug: { ProcessMap: object } };
    return Object.keys(r.Debug.ProcessMap);
  };
  const hasCap = async (on: string, cap: { issuer: string; params: string }) =>
    ((await t.ask('kernel:distro:sys', { Debug: { HasCap: { on, cap } } })).body as { Debug: { HasCap: boolean } }).Debug.HasCap;
  const drive = () => join(t.node.home, 'vfs', PKG_ID, 'pkg');

  async function assertNothingInstalled(): Promise<void> {
    assert.ok(!existsSync(drive()), 'no pkg drive was made');
    assert.deepEqual(
      (await processes()).filter((p) => p.endsWith(PKG_ID)),
      [],
      'no process was started',
    );
    assert.deepEqual(await store('Apis'), { ApisResponse: { apis: [] } });
  }

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'kit-app-store-'));
    wasm = await buildFixture(join(repoRoot(), 'test/fixtures/processes/echo.js'), {
      // Only the process world: other WIT folders in the repo are not this fixture's business.
      witPath: join(repoRoot(), 'wit', 'hyperware.wit'),
    });
    t = await boot(join(work, 'home'));
  });
  after(async () => {
    await t?.node.stop();
    rmSync(work, { recursive: true, force: true });
  });

  describe('refuses bad packages and installs nothing', () => {
    it('answers NoBlob without a zip, InstallFailed for a blob that is no package zip', async () => {
      assert.deepEqual(await newPackage(), { NewPackageResponse: 'NoBlob' });
      assert.deepEqual(await newPackage(Buffer.from('definitely not a zip')), { NewPackageResponse: 'InstallFailed' });
      const noManifest = zipEntries([file('echo.wasm', wasm)]);
      assert.deepEqual(await newPackage(noManifest), { NewPackageResponse: 'InstallFailed' });
      assert.ok(t.lines.some((l) => l.includes('no manifest.json')), 'the terminal says why');
    });

    it('refuses a zip with an entry that climbs out of the drive', async () => {
      const zip = Buffer.from(zipEntries([file('manifest.json', manifest()), file('aa/evil.txt', 'x')]));
      for (const at of [zip.indexOf('aa/evil.txt'), zip.lastIndexOf('aa/evil.txt')]) zip.write('../evil.txt', at);
      assert.deepEqual(await newPackage(zip), { NewPackageResponse: 'InstallFailed' });
      assert.ok(!existsSync(join(t.node.home, 'vfs', 'app-store:sys', 'downloads', PKG_ID, `${sha256Hex(zip)}.zip`)));
      assert.deepEqual(await install(zip), { InstallResponse: 'Failure' });
      await assertNothingInstalled();
    });

    it('refuses Install of a version that was never added', async () => {
      const zip = zipEntries([file('manifest.json', manifest()), file('echo.wasm', wasm)]);
      assert.deepEqual(await install(zip), { InstallResponse: 'Failure' });
      assert.ok(t.lines.some((l) => l.includes('send NewPackage with the zip first')));
      assert.deepEqual(
        await store({ Install: { package_id: PKG, version_hash: '../../etc', metadata: null } }),
        { InstallResponse: 'Failure' },
      );
      await assertNothingInstalled();
    });

    it('refuses at NewPackage a zip whose manifest is not JSON', async () => {
      assert.deepEqual(await newPackage(zipEntries([file('manifest.json', '[{'), file('echo.wasm', 'x')])), {
        NewPackageResponse: 'InstallFailed',
      });
      await assertNothingInstalled();
    });

    const cases: Array<[string, ZipEntry[], RegExp]> = [
      ['a manifest that is not a list', [file('manifest.json', '{"process_name":"echo"}'), file('echo.wasm', 'x')], /must be a list/],
      ['a wasm that is not in the zip', [file('manifest.json', manifest({ process_wasm_path: '/missing.wasm' }))], /missing\.wasm is not in the package zip/],
      ['an unsafe process name', [file('manifest.json', manifest({ process_name: 'Echo_1' })), file('echo.wasm', 'x')], /process_name/],
      ['a wasm path that climbs out', [file('manifest.json', manifest({ process_wasm_path: '/../echo.wasm' })), file('echo.wasm', 'x')], /climbs out/],
      ['a bad on_exit', [file('manifest.json', manifest({ on_exit: 'Sometimes' })), file('echo.wasm', 'x')], /on_exit/],
      ['a damaged api.zip', [file('manifest.json', manifest()), file('echo.wasm', 'x'), file('api.zip', 'not a zip')], /api\.zip/],
    ];
    for (const [what, entries, why] of cases) {
      it(`installs nothing from a package with ${what}, and says why`, async () => {
        const zip = zipEntries(entries);
        assert.deepEqual(await newPackage(zip), { NewPackageResponse: 'Success' });
        const before = t.lines.length;
        assert.deepEqual(await install(zip), { InstallResponse: 'Failure' });
        const said = t.lines.slice(before).join('\n');
        assert.match(said, /installing echo-pkg:test\.os failed/);
        assert.match(said, why);
        await assertNothingInstalled();
      });
    }

    it('checks a stored zip again at Install, whoever put it there', async () => {
      const zip = Buffer.from(zipEntries([file('manifest.json', manifest()), file('echo.wasm', 'x'), file('aa/evil.txt', 'x')]));
      for (const at of [zip.indexOf('aa/evil.txt'), zip.lastIndexOf('aa/evil.txt')]) zip.write('../evil.txt', at);
      const dir = `/app-store:sys/downloads/${PKG_ID}`;
      assert.equal((await t.ask('vfs:distro:sys', { path: dir, action: 'CreateDirAll' })).body, 'Ok');
      assert.equal((await t.ask('vfs:distro:sys', { path: `${dir}/${sha256Hex(zip)}.zip`, action: 'Write' }, zip)).body, 'Ok');
      assert.deepEqual(await install(zip), { InstallResponse: 'Failure' });
      assert.ok(!existsSync(join(t.node.home, 'vfs', PKG_ID, 'evil.txt')));
      await assertNothingInstalled();
    });

    it('answers Failure and leaves no process behind when a process cannot start', async () => {
      const zip = zipEntries([file('manifest.json', manifest()), file('echo.wasm', 'not a component')]);
      assert.deepEqual(await newPackage(zip), { NewPackageResponse: 'Success' });
      const before = t.lines.length;
      assert.deepEqual(await install(zip), { InstallResponse: 'Failure' });
      assert.match(t.lines.slice(before).join('\n'), /installing echo-pkg:test\.os failed: kernel .*RunProcess/);
      assert.ok(!(await processes()).includes(ECHO), 'the process was killed again');
      assert.deepEqual(await store('Apis'), { ApisResponse: { apis: [] } });
      // Clean up the files it did unpack, as Uninstall cannot (it was never installed).
      rmSync(drive(), { recursive: true, force: true });
    });

    it('answers Uninstall of a package that is not installed with Failure', async () => {
      assert.deepEqual(await store({ Uninstall: PKG }), { UninstallResponse: 'Failure' });
      assert.deepEqual(await store({ GetApi: PKG }), { GetApiResponse: 'Failure' });
    });
  });

  describe('installs a real component', () => {
    const api = zipEntries([file(`${PKG_ID}-v0.wit`, 'interface echo {}\n')]);
    let zip: Uint8Array;

    before(() => {
      zip = zipEntries([file('manifest.json', manifest()), file('echo.wasm', wasm), file('api.zip', api)]);
    });

    it('stores the zip, installs, starts the process and says so', async () => {
      assert.deepEqual(await newPackage(zip), { NewPackageResponse: 'Success' });
      const stored = join(t.node.home, 'vfs', 'app-store:sys', 'downloads', PKG_ID, `${sha256Hex(zip)}.zip`);
      assert.equal(sha256Hex(readFileSync(stored)), sha256Hex(zip));
      assert.deepEqual(await install(zip), { InstallResponse: 'Success' });
      assert.ok(t.lines.includes(`successfully installed ${PKG_ID}`), t.lines.join('\n'));
      assert.ok((await processes()).includes(ECHO));
      // The files: the zip's contents, the zip itself, and the API unpacked.
      assert.equal(readFileSync(join(drive(), 'echo.wasm')).length, wasm.length);
      assert.equal(sha256Hex(readFileSync(join(drive(), `${PKG_ID}.zip`))), sha256Hex(zip));
      assert.equal(readFileSync(join(drive(), 'api', `${PKG_ID}-v0.wit`), 'utf8'), 'interface echo {}\n');
    });

    it('gives the process what it asked for, and grants what it grants', async () => {
      const vfs = `${OUR}@vfs:distro:sys`;
      for (const kind of ['read', 'write'])
        assert.equal(await hasCap(ECHO, { issuer: vfs, params: JSON.stringify({ kind, drive: `/${PKG_ID}/pkg` }) }), true);
      assert.equal(await hasCap(ECHO, { issuer: vfs, params: '"messaging"' }), true);
      assert.equal(await hasCap(ECHO, { issuer: `${OUR}@timer:distro:sys`, params: '"messaging"' }), true);
      assert.equal(await hasCap(ECHO, { issuer: `${OUR}@kernel:distro:sys`, params: '"network"' }), true);
      assert.equal(await hasCap('http-server:distro:sys', { issuer: `${OUR}@${ECHO}`, params: '"messaging"' }), true);
    });

    it('runs: the process answers over the RPC, which it granted http-server', async () => {
      const r = await sendMessage(t.node.url, makeMessage({ process: ECHO, body: '{"hello":"echo"}' }), { timeoutMs: 60_000 });
      assert.equal(r?.body, '{"hello":"echo"}');
    });

    it('lists the package API and serves it', async () => {
      assert.deepEqual(await store('Apis'), { ApisResponse: { apis: [PKG] } });
      const r = await t.ask('main:app-store:sys', { GetApi: PKG });
      assert.deepEqual(r.body, { GetApiResponse: 'Success' });
      assert.equal(r.mime, 'application/json');
      assert.equal(sha256Hex(r.blob!), sha256Hex(api));
    });

    it('installs again over itself', async () => {
      assert.deepEqual(await install(zip), { InstallResponse: 'Success' });
      const r = await sendMessage(t.node.url, makeMessage({ process: ECHO, body: 'again' }), { timeoutMs: 60_000 });
      assert.equal(r?.body, 'again');
    });

    it('uninstalls: process killed, drive removed, API forgotten, homepage told (utils.rs uninstall: RemoveOther)', async () => {
      const told: KernelMessage[] = [];
      const homepage: ProcessId = { processName: 'homepage', packageName: 'homepage', publisherNode: 'sys' };
      await (t.node.kernel as unknown as Kernel).addNative({ id: homepage, handle: (km) => void told.push(km) });
      assert.deepEqual(await store({ Uninstall: PKG }), { UninstallResponse: 'Success' });
      assert.deepEqual(
        told.map((km) => JSON.parse(fromUtf8((km.message.val as { body: Uint8Array }).body))),
        [{ RemoveOther: ECHO }],
      );
      (t.node.kernel as unknown as Kernel).table.delete('homepage:homepage:sys');
      await assertNothingInstalled();
      assert.deepEqual(await store({ Uninstall: PKG }), { UninstallResponse: 'Failure' });
    });

    it('skips malformed capability entries with a printed line and installs the rest (app-store utils.rs parse_capabilities)', async () => {
      const bad = zipEntries([
        file(
          'manifest.json',
          manifest({
            request_capabilities: ['vfs', 42, { process: 'timer:distro:sys' }, { process: 'timer:distro:sys', params: 'messaging' }],
            grant_capabilities: ['nope', 'http-server:distro:sys'],
          }),
        ),
        file('echo.wasm', wasm),
      ]);
      assert.deepEqual(await newPackage(bad), { NewPackageResponse: 'Success' });
      const before = t.lines.length;
      assert.deepEqual(await install(bad), { InstallResponse: 'Success' });
      const said = t.lines.slice(before).join('\n');
      assert.match(said, /manifest requested invalid cap: "vfs"/);
      assert.match(said, /manifest requested invalid cap: 42/);
      assert.match(said, /manifest requested invalid cap: \{"process":"timer:distro:sys"\}/);
      assert.match(said, new RegExp(`${ECHO} manifest tried to grant invalid cap: "nope"`));
      // The well-formed entries were given.
      assert.equal(await hasCap(ECHO, { issuer: `${OUR}@timer:distro:sys`, params: '"messaging"' }), true);
      assert.equal(await hasCap('http-server:distro:sys', { issuer: `${OUR}@${ECHO}`, params: '"messaging"' }), true);
      assert.deepEqual(await store({ Uninstall: PKG }), { UninstallResponse: 'Success' });
    });
  });

  it('remembers what is installed across a --persist reboot', async () => {
    const home = join(work, 'persist');
    let p = await boot(home, true);
    const zip = zipEntries([file('manifest.json', manifest()), file('echo.wasm', wasm), file('api.zip', zipEntries([file('a.wit', '')]))]);
    try {
      const ask = async (body: unknown, blob?: Uint8Array) => (await p.ask('main:app-store:sys', body, blob)).body;
      assert.deepEqual(await ask({ NewPackage: { package_id: PKG, mirror: true } }, zip), { NewPackageResponse: 'Success' });
      assert.deepEqual(
        await ask({ Install: { package_id: PKG, version_hash: sha256Hex(zip), metadata: null } }),
        { InstallResponse: 'Success' },
      );
      await p.node.stop();
      p = await boot(home, true);
      assert.deepEqual(await ask('Apis'), { ApisResponse: { apis: [PKG] } });
      const r = await sendMessage(p.node.url, makeMessage({ process: ECHO, body: 'still here' }), { timeoutMs: 60_000 });
      assert.equal(r?.body, 'still here');
      assert.deepEqual(await ask({ Uninstall: PKG }), { UninstallResponse: 'Success' });
    } finally {
      await p.node.stop();
    }
  });
});
