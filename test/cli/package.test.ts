import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { kit } from './helpers/cli.js';
import { type Answer, type FakeRpc, startFakeRpc } from './helpers/fake-rpc.js';

const MANIFEST = [
  {
    process_name: 'chat',
    process_wasm_path: '/chat.wasm',
    on_exit: 'Restart',
    request_networking: true,
    request_capabilities: ['http-server:distro:sys'],
    grant_capabilities: [],
    public: true,
  },
];

const METADATA = {
  name: 'chat',
  description: '',
  image: '',
  external_url: '',
  animation_url: '',
  properties: {
    package_name: 'chat',
    publisher: 'template.os',
    current_version: '0.1.0',
    mirrors: [],
    code_hashes: { '0.1.0': '' },
    wit_version: 1,
    dependencies: [],
  },
};

/** A built package as `kit build` leaves it: metadata.json, pkg/, and the zip under target/. */
async function makePackage(root: string, opts: { manifest?: unknown; wasm?: string[]; zip?: boolean } = {}): Promise<string> {
  const dir = join(root, `chat-${Math.random().toString(36).slice(2)}`);
  await mkdir(join(dir, 'pkg'), { recursive: true });
  await mkdir(join(dir, 'target'), { recursive: true });
  await writeFile(join(dir, 'metadata.json'), JSON.stringify(METADATA, null, 2));
  await writeFile(join(dir, 'pkg', 'manifest.json'), JSON.stringify(opts.manifest ?? MANIFEST));
  for (const w of opts.wasm ?? ['chat.wasm']) await writeFile(join(dir, 'pkg', w), 'not really wasm');
  if (opts.zip !== false) await writeFile(join(dir, 'target', 'chat:template.zip'), 'PK zip bytes for the test');
  return dir;
}

describe('kit start-package / remove-package', () => {
  let node: FakeRpc;
  let root: string;
  let answers: Record<string, Answer>;
  const pageGets: string[] = [];
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'kit-package-'));
    node = await startFakeRpc(
      (msg) => {
        const kind = Object.keys(JSON.parse(msg.body))[0];
        return answers[kind] ?? { body: { Unknown: kind } };
      },
      {
        // The UI's page: nothing bound for the first three asks, as while the process starts.
        get: (path) => {
          pageGets.push(path);
          return pageGets.length <= 3 ? 404 : 303;
        },
      },
    );
  });
  beforeEach(() => {
    node.received.length = 0;
    pageGets.length = 0;
    answers = {
      NewPackage: { body: { NewPackageResponse: 'Success' } },
      Install: { body: { InstallResponse: 'Success' } },
      Uninstall: { body: { UninstallResponse: 'Success' } },
    };
  });
  after(async () => {
    await node.close();
    await rm(root, { recursive: true, force: true });
  });

  test('start-package sends NewPackage with the zip, then Install with its sha256', async () => {
    const dir = await makePackage(root);
    const r = await kit(['start-package', dir, '-p', String(node.port)]);
    assert.equal(r.code, 0, r.stderr);
    const zipHash = createHash('sha256')
      .update(await readFile(join(dir, 'target', 'chat:template.zip')))
      .digest('hex');
    assert.match(r.stdout, new RegExp(`^installing chat:template\\.os version ${zipHash.slice(0, 12)} on node at ${node.url}$`, 'm'));
    assert.match(r.stdout, new RegExp(`Successfully installed package chat:template.os on node at ${node.url}`));

    assert.equal(node.received.length, 2);
    const [newPackage, install] = node.received.map((m) => m.json);
    const zip = await readFile(join(dir, 'target', 'chat:template.zip'));
    assert.equal(newPackage.process, 'main:app-store:sys');
    assert.equal(newPackage.expects_response, 15);
    assert.equal(newPackage.data, zip.toString('base64'));
    assert.deepEqual(JSON.parse(newPackage.body), {
      NewPackage: { package_id: { package_name: 'chat', publisher_node: 'template.os' }, mirror: true },
    });
    const body = JSON.parse(install.body);
    assert.equal(install.data, null);
    assert.equal(body.Install.version_hash, createHash('sha256').update(zip).digest('hex'));
    assert.deepEqual(body.Install.package_id, { package_name: 'chat', publisher_node: 'template.os' });
    assert.deepEqual(body.Install.metadata.properties.code_hashes, [['0.1.0', '']]);
    assert.equal(body.Install.metadata.properties.license, null);
    assert.equal(body.Install.metadata.name, 'chat');
  });

  test('a package with a UI: start-package returns once its page is bound, not before', async () => {
    const dir = await makePackage(root);
    await mkdir(join(dir, 'pkg', 'ui'));
    const r = await kit(['start-package', dir, '-p', String(node.port)]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(pageGets, Array(4).fill('/chat:chat:template.os/'), 'asked until the page stopped answering 404');
    assert.match(r.stdout, /Successfully installed package chat:template\.os/);
  });

  test('a package without a UI does not wait for a page', async () => {
    const r = await kit(['start-package', await makePackage(root), '-p', String(node.port)]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(pageGets, []);
  });

  test('run from the package directory with the alias, the default DIR is the cwd', async () => {
    const dir = await makePackage(root);
    const r = await kit(['s', '-p', String(node.port)], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(node.received.length, 2);
  });

  test('the node refusing NewPackage or Install fails with its answer', async () => {
    const dir = await makePackage(root);
    answers.NewPackage = { body: { NewPackageResponse: 'NoBlob' } };
    let r = await kit(['start-package', dir, '-p', String(node.port)]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Failed to add package\. Got response from node: \{"NewPackageResponse":"NoBlob"\}/);

    answers.NewPackage = { body: { NewPackageResponse: 'Success' } };
    answers.Install = { body: { InstallResponse: 'Failure' } };
    r = await kit(['start-package', dir, '-p', String(node.port)]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Failed to start package\. Got response from node: \{"InstallResponse":"Failure"\}/);
  });

  test('checks before sending: pkg/, zip, manifest paths, names and wasm files', async () => {
    const cases: { name: string; dir: () => Promise<string>; error: RegExp; hint?: RegExp }[] = [
      {
        name: 'no pkg/',
        dir: async () => {
          const d = join(root, 'empty');
          await mkdir(d, { recursive: true });
          return d;
        },
        error: /Required `pkg\/` dir not found within given input dir/,
        hint: /hint: run `kit build` first/,
      },
      { name: 'no zip', dir: () => makePackage(root, { zip: false }), error: /Missing pkg zip\./, hint: /Try `kit build`ing package first\./ },
      {
        name: 'wasm path without /',
        dir: () => makePackage(root, { manifest: [{ ...MANIFEST[0], process_wasm_path: 'chat.wasm' }] }),
        error: /process_wasm_path "chat.wasm" must start with "\/" and end with "\.wasm"/,
      },
      {
        name: 'unsafe process name',
        dir: () => makePackage(root, { manifest: [{ ...MANIFEST[0], process_name: 'my_chat' }] }),
        error: /process_name is not Hypermap-safe/,
        hint: /try "my-chat"/,
      },
      {
        name: 'underscore typo',
        dir: () => makePackage(root, { manifest: [{ ...MANIFEST[0], process_name: 'my-chat', process_wasm_path: '/my-chat.wasm' }], wasm: ['my_chat.wasm'] }),
        error: /Found "my_chat\.wasm" \(with underscores\) in pkg\/ but manifest\.json expects "my-chat\.wasm"\./,
      },
      {
        name: 'missing wasm',
        dir: () => makePackage(root, { wasm: [] }),
        error: /Missing a \.wasm file declared by manifest\.json/,
        hint: /Try `kit build`ing package first, or updating manifest\.json\./,
      },
      {
        name: 'manifest not a list',
        dir: () => makePackage(root, { manifest: { process_name: 'chat' } }),
        error: /Failed to parse required manifest\.json file/,
      },
    ];
    for (const c of cases) {
      const r = await kit(['start-package', await c.dir(), '-p', String(node.port)]);
      assert.equal(r.code, 1, `${c.name}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, c.error, c.name);
      if (c.hint) assert.match(r.stderr, c.hint, c.name);
    }
    assert.equal(node.received.length, 0, 'nothing is sent when a check fails');
  });

  test('remove-package names the package by flags or by metadata.json', async () => {
    let r = await kit(['remove-package', '-a', 'foo', '-u', 'pub.os', '-p', String(node.port)]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`Successfully removed package foo:pub.os on node at ${node.url}`));
    assert.deepEqual(JSON.parse(node.received[0].json.body), { Uninstall: { package_name: 'foo', publisher_node: 'pub.os' } });

    const dir = await makePackage(root);
    r = await kit(['r', dir, '-p', String(node.port)]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(node.received[1].json.body), { Uninstall: { package_name: 'chat', publisher_node: 'template.os' } });
  });

  test('remove-package failures: node says Failure, or only one of --package/--publisher', async () => {
    answers.Uninstall = { body: { UninstallResponse: 'Failure' } };
    let r = await kit(['remove-package', '-a', 'foo', '-u', 'pub.os', '-p', String(node.port)]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Failed to remove package\. Got response from node: \{"UninstallResponse":"Failure"\}/);

    r = await kit(['remove-package', '-a', 'foo', '-p', String(node.port)], { cwd: root });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /give both --package and --publisher, or neither/);
  });
});
