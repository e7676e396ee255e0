// `kit publish --ledger` through @ledgerhq/hw-app-eth on a fake chain with a fake node's name.
// No Ledger is attached here, so the device is a stand-in for the Ethereum app (its
// GET_ETH_PUBLIC_ADDRESS and SIGN_TX commands, holding anvil's first key, the owner of fake.dev),
// recorded with @ledgerhq/hw-transport-mocker's recorder; the recording is then replayed with the
// mocker's replayer, as Ledger's own tests replay device sessions. Trezor stays refused.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createPublicClient, type Hex, hexToString, http, keccak256, recoverTransactionAddress } from 'viem';
import { privateKeyToAccount, sign } from 'viem/accounts';
import { buildPackage } from '../../src/build/build.js';
import { ANVIL_OWNER, ANVIL_OWNER_KEY, HYPERMAP, hypermapAbi, namehash } from '../../src/core/hypermap.js';
import { LEDGER_PATH, type LedgerTransport } from '../../src/publish/ledger.js';
import { encryptKeystore, publish } from '../../src/publish/index.js';
import { fakeComponentize, MANIFEST, metadataJson, writePackage } from '../build/helpers.js';
import { REPO, runKit } from '../helpers/kit.js';
import { bootFakeNode, type FakeNode, freePort } from '../e2e/helpers.js';

const require = createRequire(import.meta.url);
const mocker = require('@ledgerhq/hw-transport-mocker') as {
  RecordStore: { new (): RecordStore; fromString(s: string): RecordStore };
  createTransportRecorder(t: unknown, store: RecordStore): new (t: unknown) => LedgerTransport;
  openTransportReplayer(store: RecordStore): Promise<LedgerTransport>;
};
interface RecordStore {
  toString(): string;
}

const SW_OK = Buffer.from([0x90, 0x00]);
const PATH_BYTES = '058000002c8000003c800000000000000000000000'; // 44'/60'/0'/0/0

/** The Ethereum app, as far as kit uses it: the address of a path, and signing a transaction sent in chunks. */
class StandInEthApp {
  readonly account = privateKeyToAccount(ANVIL_OWNER_KEY);
  readonly paths: string[] = [];
  private tx: Buffer[] = [];

  async exchange(apdu: Buffer): Promise<Buffer> {
    const [cla, ins, p1] = apdu;
    const data = apdu.subarray(5, 5 + apdu[4]);
    if (cla !== 0xe0) return Buffer.from([0x6e, 0x00]);
    if (ins === 0x02) {
      this.paths.push(data.toString('hex'));
      const pub = Buffer.from(this.account.publicKey.slice(2), 'hex');
      const address = Buffer.from(this.account.address.slice(2), 'ascii');
      return Buffer.concat([Buffer.from([pub.length]), pub, Buffer.from([address.length]), address, SW_OK]);
    }
    if (ins === 0x04) {
      if (p1 === 0x00) {
        const n = data[0];
        this.paths.push(data.subarray(0, 1 + 4 * n).toString('hex'));
        this.tx = [data.subarray(1 + 4 * n)];
      } else this.tx.push(data);
      const { r, s, yParity } = await sign({ hash: keccak256(Buffer.concat(this.tx)), privateKey: ANVIL_OWNER_KEY });
      return Buffer.concat([Buffer.from([yParity ?? 0]), Buffer.from(r.slice(2), 'hex'), Buffer.from(s.slice(2), 'hex'), SW_OK]);
    }
    return Buffer.from([0x6d, 0x00]);
  }

  async close(): Promise<void> {}
}

/** The stand-in app behind a real @ledgerhq/hw-transport, its APDUs recorded into `store`. */
function recorded(device: StandInEthApp, store: RecordStore = new mocker.RecordStore()): LedgerTransport {
  const Recorder = mocker.createTransportRecorder(device, store);
  return new Recorder(device);
}

describe('kit publish --ledger', { timeout: 10 * 60_000 }, () => {
  let work: string;
  let chain: ChildProcess;
  let chainPort: number;
  let node: FakeNode;
  let server: Server;
  let metadataUri: string;
  let dir: string;
  let keystore: string;
  let client: ReturnType<typeof createPublicClient>;
  const fees = { gasLimit: 1_000_000, priorityFee: 1_000_000_000, feePerGas: 3_000_000_000 };

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'kit-ledger-'));
    chainPort = await freePort();
    chain = spawn(process.execPath, [join(REPO, 'bin/run.js'), 'chain', '-p', String(chainPort)], { stdio: 'ignore' });
    client = createPublicClient({ transport: http(`http://127.0.0.1:${chainPort}`) });
    const deadline = Date.now() + 60_000;
    for (;;) {
      const code = await client.getCode({ address: HYPERMAP }).catch(() => undefined);
      if (code && code !== '0x') break;
      if (Date.now() > deadline) throw new Error('kit chain never came up');
      await new Promise((r) => setTimeout(r, 100));
    }
    // The node registers fake.dev, owned by anvil's first account: the key the stand-in Ledger holds.
    node = await bootFakeNode(await freePort(), join(work, 'node'), {}, { chainPort, name: 'fake.dev' });

    dir = writePackage({
      'metadata.json': metadataJson('ledgered', 'fake.dev'),
      'pkg/manifest.json': MANIFEST(['ledgered']),
      'ledgered/src/lib.js': 'export function init(_our) {}\n',
    });
    const quiet = { debug() {}, info() {}, warning() {}, error() {}, child: () => quiet };
    await buildPackage({ dir, componentize: fakeComponentize(), progress: null, logger: quiet, componentCacheDir: join(work, 'components') });
    const zipHash = createHash('sha256')
      .update(readFileSync(join(dir, 'target', 'ledgered:fake.zip')))
      .digest('hex');
    const meta = JSON.parse(readFileSync(join(dir, 'metadata.json'), 'utf8'));
    meta.properties.code_hashes = { '0.1.0': zipHash };
    writeFileSync(join(dir, 'metadata.json'), `${JSON.stringify(meta, null, 2)}\n`);
    const served = readFileSync(join(dir, 'metadata.json'), 'utf8');
    server = createServer((_req, res) => res.end(served));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    metadataUri = `http://127.0.0.1:${(server.address() as { port: number }).port}/metadata.json`;
    keystore = join(work, 'owner.json');
    writeFileSync(keystore, JSON.stringify(await encryptKeystore(Buffer.from(ANVIL_OWNER_KEY.slice(2), 'hex'), 'pw', { kdf: 'scrypt', cost: 1024 })));
  });

  after(async () => {
    await node?.stop();
    if (chain && chain.exitCode === null) {
      const done = new Promise((r) => chain.once('exit', r));
      chain.kill('SIGINT');
      await done;
    }
    server?.close();
    rmSync(work, { recursive: true, force: true });
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const base = () => ({ dir, metadataUri, rpc: `ws://127.0.0.1:${chainPort}`, ...fees });

  it('signs on the device the transaction a keystore with the same key signs, over the recorded APDUs', async () => {
    const device = new StandInEthApp();
    const store = new mocker.RecordStore();
    const viaLedger = await publish({ ...base(), ledger: true, ledgerTransport: recorded(device, store), mock: true });
    const viaKeystore = await publish({ ...base(), keystorePath: keystore, password: async () => 'pw', mock: true });
    assert.equal(viaLedger.from, ANVIL_OWNER);
    assert.equal(viaLedger.rawTransaction, viaKeystore.rawTransaction, 'same key, same transaction: the same signed bytes (RFC 6979)');
    assert.equal(await recoverTransactionAddress({ serializedTransaction: viaLedger.rawTransaction as `0x02${string}` }), ANVIL_OWNER);
    // The device was asked for Ledger Live's first account, as the real kit asks.
    assert.equal(LEDGER_PATH, "44'/60'/0'/0/0");
    assert.deepEqual(device.paths, [PATH_BYTES, PATH_BYTES]);
    const recording = store.toString();
    assert.match(recording, new RegExp(`^=> e0020000..${PATH_BYTES}$`, 'm'), 'GET_ETH_PUBLIC_ADDRESS for the path');
    assert.match(recording, new RegExp(`^=> e0040000..${PATH_BYTES}02`, 'm'), 'SIGN_TX, first chunk: path then the EIP-1559 transaction');

    // The mocker's replayer answers from the recording: the same exchange, the same signature.
    const replayer = await mocker.openTransportReplayer(mocker.RecordStore.fromString(recording));
    const replayed = await publish({ ...base(), ledger: true, ledgerTransport: replayer, mock: true });
    assert.equal(replayed.rawTransaction, viaLedger.rawTransaction);
  });

  it('publishes: the transaction the device signed mints the app entry with its metadata notes', async () => {
    const r = await publish({ ...base(), ledger: true, ledgerTransport: recorded(new StandInEthApp()) });
    assert.equal(r.action, 'mint');
    assert.ok(r.blockNumber);
    const [, , uri] = await client.readContract({ address: HYPERMAP, abi: hypermapAbi, functionName: 'get', args: [namehash('~metadata-uri.ledgered.fake.dev')] });
    assert.equal(hexToString(uri as Hex), metadataUri);
  });

  it('says what to install when the USB transport is missing, and keeps Trezor refused', async () => {
    const r = await runKit(['publish', dir, '-u', metadataUri, '--ledger', '-r', `ws://127.0.0.1:${chainPort}`]);
    assert.notEqual(r.code, 0);
    assert.match(r.output, /--ledger needs @ledgerhq\/hw-transport-node-hid, which is not installed with kit/);
    assert.match(r.output, /npm install --prefix/);
    await assert.rejects(publish({ ...base(), trezor: true }), /Trezor hardware wallets are not supported/);
  });
});
