// App Store figures (issue 7): a package zip downloaded between two nodes' downloads:app-store:sys
// (MirrorCheck, 2 MB chunks over the network, sha256 check, stored in the VFS), against the floor
// of the same bytes sent over a bare loopback WebSocket; and decrypting a standard keystore.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket, WebSocketServer } from 'ws';
import { createLogger } from '../src/core/log.js';
import { bootNode } from '../src/runtime/node.js';
import { fromUtf8, messagingCap, parseProcessId, } from '../src/core/types.js';
import { sha256Hex, zipEntries } from '../src/core/zip.js';
import { decryptKeystore, encryptKeystore } from '../src/publish/keystore.js';
import type { BenchContext } from './run.js';
import { meshWithSender } from './util.js';

const quiet = createLogger({ target: 'bench::store', level: 'error', file: null, terminal: null });
const SENDER = parseProcessId('sender:bench:sys');
const ZIP_MB = 8;
const CHUNK = 2 * 1024 * 1024;

export async function run(ctx: BenchContext): Promise<void> {
  const zip = zipEntries([
    { path: 'manifest.json', bytes: new TextEncoder().encode('[]'), isDir: false },
    { path: 'payload.bin', bytes: new Uint8Array(randomBytes(ZIP_MB * 1024 * 1024)), isDir: false },
  ]);
  const hash = sha256Hex(zip);
  const mb = zip.length / 1024 / 1024;
  const floorMs = await wsFloorMs(zip);
  ctx.add({ name: 'store_floor_ws_transfer_ms', value: floorMs, unit: 'ms', note: `${mb.toFixed(1)} MB in 2 MB frames over a bare loopback ws, each acked` });

  const root = mkdtempSync(join(tmpdir(), 'kit-bench-store-'));
  const a = await bootNode({ home: join(root, 'a'), port: 0, name: 'mirror.dev', log: quiet });
  const b = await bootNode({ home: join(root, 'b'), port: 0, name: 'buyer.dev', log: quiet });
  try {
    await meshWithSender([a, b], SENDER, (n) => [messagingCap({ node: n.name, process: parseProcessId('downloads:app-store:sys') })]);
    const pkg = { package_name: 'bench-pkg', publisher_node: a.name };
    const add = await a.kernel.request(SENDER, 'our@downloads:app-store:sys', JSON.stringify({ AddDownload: { package_id: pkg, version_hash: hash, mirror: true } }), {
      blob: { bytes: zip },
    });
    if (fromUtf8(add.response.body) !== '"Success"') throw new Error(`AddDownload: ${fromUtf8(add.response.body)}`);
    const download = async () => {
      const t0 = process.hrtime.bigint();
      const r = await b.kernel.request(
        SENDER,
        'our@downloads:app-store:sys',
        JSON.stringify({ LocalDownload: { package_id: pkg, download_from: a.name, desired_version_hash: hash } }),
        { timeoutSecs: 120 },
      );
      if (fromUtf8(r.response.body) !== '"Success"') throw new Error(`LocalDownload: ${fromUtf8(r.response.body)}`);
      return Number(process.hrtime.bigint() - t0) / 1e6;
    };
    await download(); // connect + warm-up
    const times = [await download(), await download(), await download()].sort((x, y) => x - y);
    const ms = times[1] as number;
    const bound = 4 * floorMs + 100;
    ctx.add({
      name: 'store_download_ms',
      value: ms,
      unit: 'ms',
      goal: `<= 4 x store_floor_ws_transfer_ms + 100 = ${bound.toFixed(1)}`,
      met: ms <= bound,
      note: `${mb.toFixed(1)} MB zip node to node: MirrorCheck, chunks over Noise, sha256, VFS write; ${(mb / (ms / 1000)).toFixed(1)} MB/s`,
    });
  } finally {
    await b.stop();
    await a.stop();
    rmSync(root, { recursive: true, force: true });
  }

  // What `kit publish -k` spends before it can sign: geth/cast's standard scrypt (n=2^18, r=8, p=1).
  const ks = await encryptKeystore(new Uint8Array(32).fill(7), 'pw', { kdf: 'scrypt', cost: 1024 });
  ks.crypto.kdfparams = { ...ks.crypto.kdfparams, n: 262144 } as typeof ks.crypto.kdfparams;
  const t0 = process.hrtime.bigint();
  await decryptKeystore(ks, 'pw').catch(() => undefined); // MAC fails (params changed): the KDF cost is what is timed
  ctx.add({ name: 'keystore_scrypt_decrypt_ms', value: Number(process.hrtime.bigint() - t0) / 1e6, unit: 'ms', note: 'n=2^18 r=8 p=1, @noble/hashes' });
}

/** Send `bytes` in CHUNK frames over a bare ws, one at a time, each acknowledged (what the pull protocol does). */
async function wsFloorMs(bytes: Uint8Array): Promise<number> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  wss.on('connection', (s) => s.on('message', () => s.send(new Uint8Array(1))));
  const ws = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  await new Promise<void>((r) => ws.once('open', () => r()));
  const once = async () => {
    const t0 = process.hrtime.bigint();
    for (let off = 0; off < bytes.length; off += CHUNK) {
      const acked = new Promise<void>((r) => ws.once('message', () => r()));
      ws.send(bytes.subarray(off, off + CHUNK));
      await acked;
    }
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };
  await once();
  const times = [await once(), await once(), await once()].sort((x, y) => x - y);
  ws.close();
  await new Promise<void>((r) => wss.close(() => r()));
  return times[1] as number;
}
