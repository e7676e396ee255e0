// Publishing across nodes, as a developer does it: a fake chain and two fake nodes (each its own
// OS process), a package built and installed on the publisher's node, `kit publish` from a
// keystore, the Hypermap entries read back with viem, the second node finding it on chain,
// downloading it from the publisher's node through the App Store's mirror protocol (a tampered zip
// refused with its reason, the real one installed and running), `kit view-api -d`, an update
// published later installed on the second node by itself (auto-update), and `--unpublish` taking it
// out of the second node's listing.
// Every bad input is refused with a clear error and no transaction (the nonce does not move).

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createPublicClient, type Hex, hexToString, http, keccak256 } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { anvilBinary } from '../../src/chain/anvil.js';
import { ANVIL_OWNER, ANVIL_OWNER_KEY, HYPERMAP, hypermapAbi, namehash } from '../../src/core/hypermap.js';
import { encryptKeystore } from '../../src/publish/keystore.js';
import { getPublished, listPublished } from '../../src/package/store.js';
import { zipDirectory } from '../../src/core/zip.js';
import { REPO, runKit } from '../helpers/kit.js';
import { bootFakeNode, type FakeNode, freePort } from './helpers.js';

/** anvil's dev account #1 (a fact of anvil's default mnemonic): funded, owns nothing on Hypermap. */
const OTHER_KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d' as const;
const PKG = 'shelf';
const PUBLISHER = 'fake.dev';
const ID = `${PKG}:${PUBLISHER}`;
const PASSWORD = 'correct horse';

describe('kit publish and the App Store across nodes', { timeout: 20 * 60_000 }, () => {
  let work: string;
  let chainPort: number;
  let chain: ChildProcess;
  let node1: FakeNode;
  let node2: FakeNode;
  let server: Server;
  let base: string;
  const served = new Map<string, string>();
  let dir: string;
  let keystore: string;
  let otherKeystore: string;
  let zipHash: string;
  let client: ReturnType<typeof createPublicClient>;

  const kit = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    runKit(args, { cwd: work, env: { KIT_KEYSTORE_PASSWORD: PASSWORD, ...env }, timeoutMs: 240_000 });
  const publishArgs = (uri: string, ks = keystore, extra: string[] = []) => [
    'publish',
    dir,
    '-u',
    uri,
    '-k',
    ks,
    '-r',
    `ws://localhost:${chainPort}`,
    ...extra,
  ];
  const nonce = (address: Hex) => client.getTransactionCount({ address });
  const note = async (path: string) => {
    const [, , data] = await client.readContract({ address: HYPERMAP, abi: hypermapAbi, functionName: 'get', args: [namehash(path)] });
    return hexToString(data);
  };
  const inject = async (port: number, process: string, body: unknown) => {
    const r = await kit(['inject-message', process, JSON.stringify(body), '-p', String(port)], {});
    assert.equal(r.code, 0, `${process} ${JSON.stringify(body)}:\n${r.output}`);
    return r.stdout;
  };
  // As on a real node, the RPC reaches chain:app-store:sys only through main's HTTP API.
  const listed = async (port: number) => (await listPublished(`http://localhost:${port}`)).some((a) => a.package_id.package_name === PKG);
  const waitListed = async (port: number, want: boolean) => {
    const deadline = Date.now() + 30_000;
    while ((await listed(port)) !== want) {
      if (Date.now() > deadline) throw new Error(`${ID} ${want ? 'never appeared in' : 'never left'} the listing of the node on ${port}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  /** Run a publish that must fail with `re`, and check no transaction left either account. */
  const refused = async (args: string[], re: RegExp, env: NodeJS.ProcessEnv = {}) => {
    const before = [await nonce(ANVIL_OWNER), await nonce(privateKeyToAccount(OTHER_KEY).address)];
    const r = await kit(args, env);
    assert.notEqual(r.code, 0, r.output);
    assert.match(r.output, re);
    assert.doesNotMatch(r.output, /tx sent/);
    assert.deepEqual([await nonce(ANVIL_OWNER), await nonce(privateKeyToAccount(OTHER_KEY).address)], before);
  };

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'kit-publish-'));
    chainPort = await freePort();
    let chainOut = '';
    chain = spawn(process.execPath, [join(REPO, 'bin/run.js'), 'chain', '-p', String(chainPort)], { stdio: ['ignore', 'pipe', 'pipe'] });
    chain.stdout?.on('data', (d) => {
      chainOut += d;
    });
    client = createPublicClient({ transport: http(`http://127.0.0.1:${chainPort}`) });
    const deadline = Date.now() + 60_000;
    for (;;) {
      const code = await client.getCode({ address: HYPERMAP }).catch(() => undefined);
      if (code && code !== '0x') break;
      if (Date.now() > deadline) throw new Error(`kit chain never came up:\n${chainOut}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    node1 = await bootFakeNode(await freePort(), join(work, 'node1'), {}, { chainPort, name: PUBLISHER });
    node2 = await bootFakeNode(await freePort(), join(work, 'node2'), {}, { chainPort, name: 'fake2.dev' });

    server = createServer((req, res) => {
      const body = served.get(req.url ?? '');
      res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' });
      res.end(body ?? 'not found');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

    let r = await kit(['new', PKG, '-u', PUBLISHER, '-l', 'javascript', '-t', 'chat']);
    assert.equal(r.code, 0, r.output);
    dir = join(work, PKG);
    r = await kit(['build', dir]);
    assert.equal(r.code, 0, r.output);
    zipHash = createHash('sha256')
      .update(readFileSync(join(dir, 'target', `${PKG}:fake.zip`)))
      .digest('hex');
    const meta = JSON.parse(readFileSync(join(dir, 'metadata.json'), 'utf8'));
    meta.properties.code_hashes = { '0.1.0': zipHash };
    writeFileSync(join(dir, 'metadata.json'), `${JSON.stringify(meta, null, 2)}\n`);
    served.set('/metadata.json', readFileSync(join(dir, 'metadata.json'), 'utf8'));
    // The publisher's node runs (and mirrors) the package before it is published, as the book says.
    r = await kit(['start-package', dir, '-p', String(node1.port)]);
    assert.equal(r.code, 0, r.output);

    keystore = join(work, 'publisher.json');
    const ks = await encryptKeystore(Buffer.from(ANVIL_OWNER_KEY.slice(2), 'hex'), PASSWORD, { kdf: 'scrypt', cost: 1024 });
    writeFileSync(keystore, JSON.stringify(ks));
    otherKeystore = join(work, 'other.json');
    writeFileSync(otherKeystore, JSON.stringify(await encryptKeystore(Buffer.from(OTHER_KEY.slice(2), 'hex'), PASSWORD, { kdf: 'pbkdf2', cost: 1000 })));
  });

  after(async () => {
    await node2?.stop();
    await node1?.stop();
    if (chain && chain.exitCode === null) {
      const done = new Promise((r) => chain.once('exit', r));
      chain.kill('SIGINT');
      await done;
    }
    server?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('refuses bad input with a clear error and sends nothing', async () => {
    const deadPort = await freePort();
    await refused(publishArgs(`http://127.0.0.1:${deadPort}/metadata.json`), /does not answer/);
    served.set('/broken.json', '{"name": "shelf", ');
    await refused(publishArgs(`${base}/broken.json`), /not valid metadata\.json/);
    await refused(publishArgs(`${base}/metadata.json`), /wrong password/, { KIT_KEYSTORE_PASSWORD: 'nope' });
    await refused(publishArgs(`${base}/metadata.json`, keystore, ['--ledger']), /one and only one/);

    // metadata whose code hash is not the built zip's
    const good = readFileSync(join(dir, 'metadata.json'), 'utf8');
    const bad = good.replace(zipHash, 'ab'.repeat(32));
    writeFileSync(join(dir, 'metadata.json'), bad);
    served.set('/bad-hash.json', bad);
    await refused(publishArgs(`${base}/bad-hash.json`), new RegExp(`Zipped pkg hashes to '${zipHash}'`));
    writeFileSync(join(dir, 'metadata.json'), good);

    // a chain without Hypermap: a bare anvil
    const barePort = await freePort();
    const bare = spawn(anvilBinary(), ['--port', String(barePort)], { stdio: 'ignore' });
    try {
      const bareClient = createPublicClient({ transport: http(`http://127.0.0.1:${barePort}`) });
      for (let i = 0; i < 100 && (await bareClient.getChainId().catch(() => 0)) === 0; i++) await new Promise((r) => setTimeout(r, 100));
      const r = await kit(['publish', dir, '-u', `${base}/metadata.json`, '-k', keystore, '-r', `ws://localhost:${barePort}`]);
      assert.notEqual(r.code, 0, r.output);
      assert.match(r.output, /has no Hypermap contract/);
      assert.equal(await bareClient.getTransactionCount({ address: ANVIL_OWNER }), 0);
    } finally {
      bare.kill('SIGINT');
    }
  });

  it('publishes from a keystore: the Hypermap entries are there, read with viem', async () => {
    const before = await nonce(ANVIL_OWNER);
    const r = await kit(publishArgs(`${base}/metadata.json`));
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /publish shelf tx sent: 0x[0-9a-f]{64}/);
    assert.match(r.output, /mint shelf\.fake\.dev under fake\.dev/);
    assert.equal(await nonce(ANVIL_OWNER), before + 1);
    const [tba, owner] = await client.readContract({ address: HYPERMAP, abi: hypermapAbi, functionName: 'get', args: [namehash(`${PKG}.${PUBLISHER}`)] });
    assert.notEqual(BigInt(tba), 0n);
    assert.equal(owner.toLowerCase(), ANVIL_OWNER.toLowerCase());
    assert.equal(await note(`~metadata-uri.${PKG}.${PUBLISHER}`), `${base}/metadata.json`);
    assert.equal(await note(`~metadata-hash.${PKG}.${PUBLISHER}`), keccak256(readFileSync(join(dir, 'metadata.json'))));
  });

  it('--mock prints the update it would send and sends nothing', async () => {
    const before = await nonce(ANVIL_OWNER);
    const r = await kit(publishArgs(`${base}/metadata.json`, keystore, ['--mock', '-g', '500_000', '-p', '1_000_000_000', '-f', '2_000_000_000']));
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /update shelf\.fake\.dev/);
    assert.match(r.output, /gas 500000, max fee 2000000000 wei, priority fee 1000000000 wei/);
    assert.match(r.output, /publish shelf tx mock successful/);
    assert.equal(await nonce(ANVIL_OWNER), before);
  });

  it('refuses a package already published by someone else', async () => {
    await refused(publishArgs(`${base}/metadata.json`, otherKeystore), /already published by someone else/);
  });

  it('the second node lists it, refuses a tampered zip with its reason, and installs the real one from the publisher', async () => {
    await waitListed(node2.port, true);
    const app = await getPublished(`http://localhost:${node2.port}`, ID);
    assert.deepEqual(app?.metadata?.properties.code_hashes, [['0.1.0', zipHash]]);
    assert.match(app?.metadata_hash ?? '', /^0x[0-9a-f]{64}$/);

    // The publisher's node serves a zip that is not the published one: refused, and kit says why.
    const stored = join(node1.home, 'vfs', 'app-store:sys', 'downloads', ID, `${zipHash}.zip`);
    const real = readFileSync(stored);
    const tampered = Buffer.from(real);
    tampered[tampered.length - 30] ^= 0xff;
    writeFileSync(stored, tampered);
    const refusedDownload = await kit(['view-api', ID, '-p', String(node2.port), '-d', PUBLISHER]);
    assert.notEqual(refusedDownload.code, 0, refusedDownload.output);
    assert.match(refusedDownload.output, /Could not download shelf:fake\.dev from fake\.dev: HashMismatch/);
    const failed = await inject(node2.port, 'main:app-store:sys', { Install: { package_id: { package_name: PKG, publisher_node: PUBLISHER }, metadata: null, version_hash: zipHash } });
    assert.match(failed, /"InstallResponse":"Failure"/);
    writeFileSync(stored, real);

    // A mirror that stops mirroring it refuses, and kit says so before asking for the zip (the
    // App Store page's DELETE /downloads/:id/mirror, handed to main as http-server would).
    const mirrorToggle = (method: string) =>
      inject(node1.port, 'main:app-store:sys', {
        Http: { source_socket_addr: null, method, url: `http://localhost/main:app-store:sys/downloads/${ID}/mirror`, bound_path: '/main:app-store:sys/downloads/:id/mirror', headers: {}, url_params: { id: ID }, query_params: {} },
      });
    assert.match(await mirrorToggle('DELETE'), /"status":200/);
    const notMirror = await kit(['view-api', ID, '-p', String(node2.port), '-d', PUBLISHER]);
    assert.notEqual(notMirror.code, 0, notMirror.output);
    assert.match(notMirror.output, /fake\.dev refused: it does not mirror shelf:fake\.dev \(NotMirroring\)/);
    assert.match(await mirrorToggle('PUT'), /"status":200/);
    // A mirror that is not there: kit says so too.
    const offline = await kit(['view-api', ID, '-p', String(node2.port), '-d', 'nobody.dev']);
    assert.notEqual(offline.code, 0, offline.output);
    assert.match(offline.output, /nobody\.dev did not answer whether it mirrors shelf:fake\.dev/);

    // `kit view-api -d`: node2 lacks the API, so it downloads the package from fake.dev first.
    const v = await kit(['view-api', ID, '-p', String(node2.port), '-d', PUBLISHER]);
    assert.equal(v.code, 0, v.output);
    assert.match(v.output, /\.wit/);
    assert.match(v.output, /interface/);

    const ok = await inject(node2.port, 'main:app-store:sys', { Install: { package_id: { package_name: PKG, publisher_node: PUBLISHER }, metadata: null, version_hash: zipHash } });
    assert.match(ok, /"InstallResponse":"Success"/);
    // It runs on node2: chat from node2 to node1, which prints the line.
    await inject(node2.port, `${PKG}:${PKG}:${PUBLISHER}`, { Send: { target: PUBLISHER, message: 'installed from the store' } });
    const deadline = Date.now() + 30_000;
    while (!/installed from the store/.test(node1.output())) {
      if (Date.now() > deadline) throw new Error(`node1 never printed the message:\n${node1.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  it('a new version published later is downloaded and installed on the second node by itself (auto-update)', async () => {
    // Version 0.2.0: the same manifest, one more file; the publisher's node holds and mirrors it.
    writeFileSync(join(dir, 'pkg', 'NOTES.txt'), 'version 0.2.0\n');
    const zipPath = join(dir, 'target', `${PKG}:fake.zip`);
    writeFileSync(zipPath, await zipDirectory(join(dir, 'pkg')));
    const v2 = createHash('sha256').update(readFileSync(zipPath)).digest('hex');
    const meta = JSON.parse(readFileSync(join(dir, 'metadata.json'), 'utf8'));
    meta.properties.current_version = '0.2.0';
    meta.properties.code_hashes = { '0.1.0': zipHash, '0.2.0': v2 };
    writeFileSync(join(dir, 'metadata.json'), `${JSON.stringify(meta, null, 2)}\n`);
    served.set('/metadata.json', readFileSync(join(dir, 'metadata.json'), 'utf8'));
    let r = await kit(['start-package', dir, '-p', String(node1.port)]);
    assert.equal(r.code, 0, r.output);
    r = await kit(publishArgs(`${base}/metadata.json`));
    assert.equal(r.code, 0, r.output);
    // node2's chain:app-store:sys sees the new notes, downloads 0.2.0 from fake.dev and, the
    // manifest being the installed one's, installs it (the drive keeps the installed zip).
    const deadline = Date.now() + 120_000;
    while (!/auto-installed update for package: shelf:fake\.dev/.test(node2.output())) {
      if (Date.now() > deadline) throw new Error(`node2 never installed 0.2.0:\n${node2.output().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const installedZip = join(node2.home, 'vfs', ID, 'pkg', `${ID}.zip`);
    assert.equal(createHash('sha256').update(readFileSync(installedZip)).digest('hex'), v2);
    assert.ok(existsSync(join(node2.home, 'vfs', ID, 'pkg', 'NOTES.txt')), 'the new file is in the installed drive');
  });

  it('--unpublish removes it from the second node\'s listing', async () => {
    const r = await kit(publishArgs(`${base}/metadata.json`, keystore, ['--unpublish']));
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /unpublish shelf tx sent: 0x[0-9a-f]{64}/);
    assert.equal(await note(`~metadata-uri.${PKG}.${PUBLISHER}`), '');
    await waitListed(node2.port, false);
  });
});
