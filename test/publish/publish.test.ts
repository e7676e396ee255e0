// kit publish's checks and transactions without a chain: metadata fetched over file:// and HTTP
// and compared with the package, the metadata hash, and the one transaction planned for mint,
// update and unpublish, decoded back with viem to the calls interop §8.4 describes.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { decodeFunctionData, type Hex, hexToString, keccak256, stringToBytes } from 'viem';
import { accountAbi, HYPERACCOUNT_IMPL, HYPERMAP, hypermapAbi, MULTICALL3, multicallAbi } from '../../src/core/hypermap.js';
import { zipEntries } from '../../src/core/zip.js';
import { publish } from '../../src/publish/index.js';
import { checkPackage, fetchMetadata, metadataHash } from '../../src/publish/metadata.js';
import { DEV_BUILD_SECTION } from '../../src/core/wasm-binary.js';
import { FAKE_NETWORK, planPublish, REAL_NETWORK } from '../../src/publish/transactions.js';

const WALLET = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266' as Hex;
const OTHER = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8' as Hex;
const PUB_TBA = '0x1111111111111111111111111111111111111111' as Hex;
const APP_TBA = '0x2222222222222222222222222222222222222222' as Hex;
const ZERO = '0x0000000000000000000000000000000000000000' as Hex;
const HASH = `0x${'ab'.repeat(32)}` as Hex;

function decodeNotes(init: Hex): Array<[string, string]> {
  const exec = decodeFunctionData({ abi: accountAbi, data: init });
  assert.equal(exec.functionName, 'execute');
  const [to, value, data, op] = exec.args as [Hex, bigint, Hex, number];
  assert.equal(to, MULTICALL3);
  assert.equal(value, 0n);
  assert.equal(op, 1, 'notes are written by DELEGATECALL to Multicall3');
  const agg = decodeFunctionData({ abi: multicallAbi, data });
  const calls = agg.args[0] as Array<{ target: Hex; callData: Hex }>;
  return calls.map((c) => {
    assert.equal(c.target, HYPERMAP);
    const n = decodeFunctionData({ abi: hypermapAbi, data: c.callData });
    assert.equal(n.functionName, 'note');
    const [label, d] = n.args as [Hex, Hex];
    return [hexToString(label), hexToString(d)];
  });
}

describe('kit publish: transactions', () => {
  const base = { network: FAKE_NETWORK, wallet: WALLET, name: 'shelf', publisher: 'fake.dev', metadataUri: 'https://x/m.json', metadataHash: HASH };

  it('mints a new app under the publisher TBA with the hash note before the uri note', () => {
    const tx = planPublish({ ...base, app: { tba: ZERO, owner: ZERO }, publisherEntry: { tba: PUB_TBA, owner: WALLET }, unpublish: false });
    assert.equal(tx.action, 'mint');
    assert.equal(tx.to, PUB_TBA);
    const exec = decodeFunctionData({ abi: accountAbi, data: tx.data });
    const [to, value, data, op] = exec.args as [Hex, bigint, Hex, number];
    assert.deepEqual([to, value, op], [HYPERMAP, 0n, 0]);
    const mint = decodeFunctionData({ abi: hypermapAbi, data });
    assert.equal(mint.functionName, 'mint');
    const [who, label, init, impl] = mint.args as [Hex, Hex, Hex, Hex];
    assert.equal(who, WALLET);
    assert.equal(hexToString(label), 'shelf');
    assert.equal(impl, HYPERACCOUNT_IMPL);
    assert.deepEqual(decodeNotes(init), [
      ['~metadata-hash', HASH],
      ['~metadata-uri', 'https://x/m.json'],
    ]);
    // The 4-parameter mint selector kit and Hyperdrive use (interop Appendix A).
    assert.equal(data.slice(0, 10), '0x094cefed');
  });

  it('updates an app it owns through the app TBA; unpublishes with empty notes', () => {
    const mine = { app: { tba: APP_TBA, owner: WALLET }, publisherEntry: { tba: PUB_TBA, owner: WALLET } };
    const up = planPublish({ ...base, ...mine, unpublish: false });
    assert.equal(up.action, 'update');
    assert.equal(up.to, APP_TBA);
    assert.deepEqual(decodeNotes(up.data)[1], ['~metadata-uri', 'https://x/m.json']);
    const un = planPublish({ ...base, ...mine, unpublish: true });
    assert.equal(un.action, 'unpublish');
    assert.deepEqual(decodeNotes(un.data), [
      ['~metadata-hash', ''],
      ['~metadata-uri', ''],
    ]);
  });

  it('refuses what cannot be published, saying why', () => {
    assert.throws(() => planPublish({ ...base, app: { tba: APP_TBA, owner: OTHER }, publisherEntry: { tba: PUB_TBA, owner: OTHER }, unpublish: false }), /already published by someone else/);
    assert.throws(() => planPublish({ ...base, app: { tba: ZERO, owner: ZERO }, publisherEntry: { tba: ZERO, owner: ZERO }, unpublish: false }), /not on Hypermap/);
    assert.throws(() => planPublish({ ...base, app: { tba: ZERO, owner: ZERO }, publisherEntry: { tba: PUB_TBA, owner: OTHER }, unpublish: false }), /owned by/);
    assert.throws(() => planPublish({ ...base, app: { tba: ZERO, owner: ZERO }, publisherEntry: { tba: PUB_TBA, owner: WALLET }, unpublish: true }), /Can't find shelf\.fake\.dev to unpublish/);
  });

  it('uses the real network addresses with --real', () => {
    const tx = planPublish({ ...base, network: REAL_NETWORK, app: { tba: ZERO, owner: ZERO }, publisherEntry: { tba: PUB_TBA, owner: WALLET }, unpublish: false });
    const [, , data] = decodeFunctionData({ abi: accountAbi, data: tx.data }).args as [Hex, bigint, Hex, number];
    assert.equal((decodeFunctionData({ abi: hypermapAbi, data }).args as unknown as Hex[])[3], '0x0000000000691b70A051CFAF82F9622E150369f3');
    assert.equal(REAL_NETWORK.chainId, 8453);
  });

  it('refuses Trezor, a Ledger with no USB transport, two signers, and --real without --rpc before doing anything', async () => {
    await assert.rejects(publish({ dir: '.', metadataUri: 'x', ledger: true }), /--ledger needs @ledgerhq\/hw-transport-node-hid, which is not installed with kit/);
    await assert.rejects(publish({ dir: '.', metadataUri: 'x', trezor: true }), /Trezor/);
    await assert.rejects(publish({ dir: '.', metadataUri: 'x', keystorePath: 'k', ledger: true }), /one and only one/);
    await assert.rejects(publish({ dir: '.', metadataUri: 'x', keystorePath: 'k', real: true }), /--real needs --rpc/);
  });
});

describe('kit publish: metadata checks', () => {
  let work: string;
  let dir: string;
  let server: ReturnType<typeof createServer>;
  let url: string;
  const files = new Map<string, string>();
  const zip = zipEntries([{ path: 'manifest.json', bytes: stringToBytes('[]'), isDir: false }]);
  const zipHash = createHash('sha256').update(zip).digest('hex');
  const metadata = (hash: string, name = 'shelf') =>
    `${JSON.stringify({ name, description: '', properties: { package_name: name, publisher: 'fake.dev', current_version: '0.1.0', mirrors: [], code_hashes: { '0.1.0': hash }, wit_version: 1, dependencies: [] } }, null, 2)}\n`;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'kit-publish-unit-'));
    dir = join(work, 'shelf');
    mkdirSync(join(dir, 'pkg'), { recursive: true });
    mkdirSync(join(dir, 'target'), { recursive: true });
    writeFileSync(join(dir, 'target', 'shelf:fake.zip'), zip);
    server = createServer((req, res) => {
      const body = files.get(req.url ?? '');
      res.writeHead(body === undefined ? 404 : 200);
      res.end(body ?? '');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });

  after(() => {
    server.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('hashes metadata as the App Store does: keccak256 of the bytes, with a final newline', () => {
    assert.equal(metadataHash(stringToBytes('{}')), keccak256(stringToBytes('{}\n')));
    assert.equal(metadataHash(stringToBytes('{}\n')), keccak256(stringToBytes('{}\n')));
  });

  it('fetches over file:// and http, and says when a URI does not answer', async () => {
    writeFileSync(join(work, 'm.json'), 'hello');
    assert.equal(Buffer.from(await fetchMetadata(pathToFileURL(join(work, 'm.json')).href)).toString(), 'hello');
    files.set('/m', 'over http');
    assert.equal(Buffer.from(await fetchMetadata(`${url}/m`)).toString(), 'over http');
    await assert.rejects(fetchMetadata(`${url}/missing`), /answered HTTP 404/);
    await assert.rejects(fetchMetadata('ftp://x/y'), /not supported/);
    await assert.rejects(fetchMetadata('http://127.0.0.1:1/m.json'), /does not answer/);
  });

  it('accepts a package whose published metadata and zip match', async () => {
    writeFileSync(join(dir, 'metadata.json'), metadata(zipHash));
    files.set('/good', metadata(zipHash));
    const c = await checkPackage(dir, `${url}/good`);
    assert.equal(c.name, 'shelf');
    assert.equal(c.publisher, 'fake.dev');
    assert.equal(c.zipHash, zipHash);
    assert.equal(c.metadataHash, keccak256(stringToBytes(metadata(zipHash))));
  });

  it('refuses mismatched metadata, bytes that differ, invalid JSON, bad names and a wrong code hash', async () => {
    writeFileSync(join(dir, 'metadata.json'), metadata(zipHash));
    files.set('/other', metadata('cd'.repeat(32)));
    await assert.rejects(checkPackage(dir, `${url}/other`), /Local and remote metadata do not match/);
    files.set('/compact', JSON.stringify(JSON.parse(metadata(zipHash))));
    await assert.rejects(checkPackage(dir, `${url}/compact`), /bytes differ/);
    files.set('/broken', '{"name":');
    await assert.rejects(checkPackage(dir, `${url}/broken`), /not valid metadata\.json/);
    writeFileSync(join(dir, 'metadata.json'), metadata('ef'.repeat(32)));
    files.set('/wrong-hash', metadata('ef'.repeat(32)));
    await assert.rejects(checkPackage(dir, `${url}/wrong-hash`), new RegExp(`Zipped pkg hashes to '${zipHash}' not '${'ef'.repeat(32)}'`));
    // --unpublish skips only the zip check
    assert.equal((await checkPackage(dir, `${url}/wrong-hash`, { unpublish: true })).zipHash, undefined);
    writeFileSync(join(dir, 'metadata.json'), metadata(zipHash, 'Shelf'));
    await assert.rejects(checkPackage(dir, `${url}/good`), /only lowercase letters, digits/);
  });

  it('refuses a zip of development builds (kit build --dev, kit watch, kit run-tests), whatever its hash', async () => {
    // A component whose only section is the custom section development builds carry.
    const custom = (name: string) => {
      const body = [name.length, ...Buffer.from(name), ...Buffer.from('kit')];
      return Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00, 0x00, body.length, ...body]);
    };
    const withWasm = (wasm: Uint8Array) =>
      zipEntries([
        { path: 'manifest.json', bytes: stringToBytes('[]'), isDir: false },
        { path: 'shelf.wasm', bytes: wasm, isDir: false },
      ]);
    const devZip = withWasm(custom(DEV_BUILD_SECTION));
    const devHash = createHash('sha256').update(devZip).digest('hex');
    writeFileSync(join(dir, 'target', 'shelf:fake.zip'), devZip);
    writeFileSync(join(dir, 'metadata.json'), metadata(devHash));
    files.set('/dev', metadata(devHash));
    await assert.rejects(checkPackage(dir, `${url}/dev`), /holds development builds \(shelf\.wasm\).*only a release build is published/);
    // any other custom section is fine
    const releaseZip = withWasm(custom('producers'));
    const releaseHash = createHash('sha256').update(releaseZip).digest('hex');
    writeFileSync(join(dir, 'target', 'shelf:fake.zip'), releaseZip);
    writeFileSync(join(dir, 'metadata.json'), metadata(releaseHash));
    files.set('/release', metadata(releaseHash));
    assert.equal((await checkPackage(dir, `${url}/release`)).zipHash, releaseHash);
    writeFileSync(join(dir, 'target', 'shelf:fake.zip'), zip);
  });
});
