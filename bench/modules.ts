// Issue 4 benchmarks: kv and sqlite driven from a component (test/fixtures/processes/
// modules-driver.js running a loop of awaited Requests) against the same stores driven directly
// from Node and against the same component's round trip to an echo component; a component answering GETs on a bound path against a bare node:http hello server,
// both under the same loopback load generator.

import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ClassicLevel } from 'classic-level';
import { Pool } from 'undici';
import { buildFixture } from '../src/build/componentize.js';
import { startPackage } from '../src/package/start.js';
import { zipDirectory } from '../src/core/zip.js';
import type { Kernel } from '../src/runtime/kernel/kernel.js';
import { bootNode, type RunningNode } from '../src/runtime/node.js';
import { fromUtf8, messagingCap, parseProcessId, processIdToString, systemProcess } from '../src/core/types.js';
import type { BenchContext, Figure } from './run.js';
import { fixtureOpts, NodeBench } from './runtime.js';

const PKG = { package_name: 'modules-bench', publisher_node: 'kit-tests.os' };
const DRIVER = 'driver:modules-bench:kit-tests.os';

async function installDriver(repo: string, node: RunningNode, work: string): Promise<void> {
  const wit = join(work, 'wit');
  mkdirSync(wit);
  copyFileSync(join(repo, 'wit/hyperware.wit'), join(wit, 'hyperware.wit'));
  const wasm = await buildFixture(join(repo, 'test/fixtures/processes/modules-driver.js'), { witPath: wit });
  const dir = join(work, 'pkgdir');
  mkdirSync(join(dir, 'pkg'), { recursive: true });
  mkdirSync(join(dir, 'target'), { recursive: true });
  const caps = ['kv', 'sqlite', 'http-server', 'vfs'].map((m) => `${m}:distro:sys`);
  writeFileSync(
    join(dir, 'pkg/manifest.json'),
    JSON.stringify([
      {
        process_name: 'driver',
        process_wasm_path: '/driver.wasm',
        on_exit: 'Restart',
        request_networking: false,
        request_capabilities: caps,
        // every module that answers the driver (Responses are capability-checked, as on Hyperdrive)
        grant_capabilities: caps,
        public: false,
      },
    ]),
  );
  writeFileSync(join(dir, 'pkg/driver.wasm'), wasm);
  writeFileSync(
    join(dir, 'metadata.json'),
    JSON.stringify({
      name: PKG.package_name,
      properties: {
        package_name: PKG.package_name,
        publisher: PKG.publisher_node,
        current_version: '0.1.0',
        mirrors: [],
        code_hashes: { '0.1.0': '' },
        wit_version: 1,
        dependencies: [],
      },
    }),
  );
  writeFileSync(join(dir, 'target/modules-bench:kit-tests.zip'), await zipDirectory(join(dir, 'pkg')));
  await startPackage({ packageDir: dir, url: node.url });
}

async function ask(node: RunningNode, cmd: unknown): Promise<Record<string, unknown>> {
  const r = await node.kernel.request(systemProcess('http-server'), DRIVER, JSON.stringify(cmd), { timeoutSecs: 600 });
  return JSON.parse(fromUtf8(r.response.body));
}

/** Operations per second of `n` driver loops of `calls` (each call one operation). */
async function componentRate(node: RunningNode, n: number, calls: unknown[], opsPerLoop: number): Promise<number> {
  const t = performance.now();
  const r = await ask(node, { Repeat: { n, calls } });
  const ms = performance.now() - t;
  if (r.failed !== 0) throw new Error(`driver loop failed ${r.failed} times`);
  return (n * opsPerLoop * 1000) / ms;
}

/** Requests per second from `connections` keep-alive connections for `ms`. */
async function loadRps(url: string, ms: number, connections = 16): Promise<number> {
  const u = new URL(url);
  const pool = new Pool(u.origin, { connections, pipelining: 1 });
  let done = 0;
  let failed = 0;
  const end = performance.now() + ms;
  const worker = async () => {
    while (performance.now() < end) {
      const r = await pool.request({ path: u.pathname, method: 'GET' });
      await r.body.dump();
      if (r.statusCode === 200) done++;
      else failed++;
    }
  };
  const t = performance.now();
  await Promise.all(Array.from({ length: connections }, worker));
  const elapsed = performance.now() - t;
  await pool.close();
  if (failed > 0) throw new Error(`${failed} requests to ${url} failed`);
  return (done * 1000) / elapsed;
}

export async function run(ctx: BenchContext): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'kit-bench-modules-'));
  const node = await bootNode({ home: join(work, 'home'), port: 0, name: 'fake.dev' });
  try {
    await installDriver(ctx.repo, node, work);
    const N = 500;
    const key = Array.from(Buffer.from('bench-key'));

    // A local round trip from the same component, for the goal: the driver calls an echo component
    // on this node. Its loops, the kv loops and the sqlite loops are measured in turns (best batch of
    // each), so that a slower spell of this shared machine falls on all of them.
    const bench = new NodeBench(node);
    await bench.init();
    const echo = await bench.install('echo', await buildFixture(join(ctx.repo, 'test/fixtures/processes/echo.js'), fixtureOpts(ctx.repo)));
    (node.kernel as Kernel).grant(parseProcessId(DRIVER), [messagingCap({ node: node.name, process: echo.id })]);
    (node.kernel as Kernel).grant(echo.id, [messagingCap({ node: node.name, process: parseProcessId(DRIVER) })]);
    const echoCalls = [{ target: processIdToString(echo.id), body: 'ping' }];

    // kv: Set + Get per loop; sqlite: one INSERT per loop.
    const kvReq = (action: unknown) => ({ package_id: PKG, db: 'bench', action });
    await ask(node, { Call: { target: 'kv:distro:sys', body: kvReq('Open') } });
    const kvCalls = [
      { target: 'kv:distro:sys', body: kvReq({ Set: { key, tx_id: null } }), blob: 'value' },
      { target: 'kv:distro:sys', body: kvReq({ Get: key }) },
    ];
    const sqlReq = (action: unknown) => ({ package_id: PKG, db: 'bench', action });
    await ask(node, { Call: { target: 'sqlite:distro:sys', body: sqlReq('Open') } });
    await ask(node, {
      Call: { target: 'sqlite:distro:sys', body: sqlReq({ Write: { statement: 'CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)', tx_id: null } }) },
    });
    const sqlCalls = [
      { target: 'sqlite:distro:sys', body: sqlReq({ Write: { statement: 'INSERT INTO t (name) VALUES (?)', tx_id: null } }), blob: '["x"]' },
    ];
    // Warm up first: the first few hundred messages after boot also pay for compiling the whole
    // message path, which later batches would not.
    await componentRate(node, N / 2, echoCalls, 1);
    await componentRate(node, N / 2, kvCalls, 2);
    await componentRate(node, N / 2, sqlCalls, 1);
    const rates = { local: [] as number[], kv: [] as number[], sql: [] as number[] };
    for (let i = 0; i < 3; i++) {
      rates.local.push(await componentRate(node, N, echoCalls, 1));
      rates.kv.push(await componentRate(node, N, kvCalls, 2));
      rates.sql.push(await componentRate(node, N, sqlCalls, 1));
    }
    const localUs = 1e6 / Math.max(...rates.local);
    const kvRate = Math.max(...rates.kv);
    const sqlRate = Math.max(...rates.sql);
    ctx.add({
      name: 'modules_local_roundtrip_us',
      value: localUs,
      unit: 'us',
      note: 'the same driver component calling an echo component on its node, measured in turns with the kv and sqlite loops',
    });

    const level = new ClassicLevel<Uint8Array, Uint8Array>(join(work, 'direct-kv'), { keyEncoding: 'view', valueEncoding: 'view' });
    await level.open();
    const k = Uint8Array.from(key);
    const v = Buffer.from('value');
    let t = performance.now();
    for (let i = 0; i < N * 10; i++) {
      await level.put(k, v);
      await level.get(k);
    }
    const kvDirect = (N * 20 * 1000) / (performance.now() - t);
    await level.close();
    ctx.add({ name: 'kv_direct_per_s', value: kvDirect, unit: 'ops/s' });
    ctx.add(moduleFigure('kv_set_get_per_s', kvRate, kvDirect, localUs));

    const db = new Database(join(work, 'direct.sqlite'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL'); // as sqlite:distro:sys opens its dbs
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)');
    const ins = db.prepare('INSERT INTO t (name) VALUES (?)');
    t = performance.now();
    for (let i = 0; i < N * 4; i++) ins.run('x');
    const sqlDirect = (N * 4 * 1000) / (performance.now() - t);
    db.close();
    ctx.add({ name: 'sqlite_direct_per_s', value: sqlDirect, unit: 'ops/s' });
    ctx.add(moduleFigure('sqlite_insert_per_s', sqlRate, sqlDirect, localUs));

    // vfs: a component reading a 10 MiB file (Read: the whole file as the Response's blob) vs
    // fs.readFile of the same file.
    const drive = `/${PKG.package_name}:${PKG.publisher_node}/bench`;
    const made = await ask(node, { Call: { target: 'vfs:distro:sys', body: { path: drive, action: 'CreateDrive' } } });
    if (JSON.stringify(made.body) !== '"Ok"') throw new Error(`CreateDrive failed: ${JSON.stringify(made)}`);
    const bigFile = join(node.home, 'vfs', `${PKG.package_name}:${PKG.publisher_node}`, 'bench', 'big.bin');
    writeFileSync(bigFile, randomBytes(10 * 1024 * 1024));
    const READS = 10;
    const readCall = { target: 'vfs:distro:sys', body: { path: `${drive}/big.bin`, action: 'Read' } };
    await componentRate(node, 1, [readCall], 1); // warm the page cache and the path
    const vfsMs = 1000 / (await componentRate(node, READS, [readCall], 1));
    await readFile(bigFile);
    t = performance.now();
    for (let i = 0; i < READS; i++) await readFile(bigFile);
    const fsMs = (performance.now() - t) / READS;
    ctx.add({ name: 'fs_read_10mb_ms', value: fsMs, unit: 'ms' });
    ctx.add({ name: 'vfs_read_10mb_ms', value: vfsMs, unit: 'ms', note: `${(vfsMs / fsMs).toFixed(1)}x fs.readFile of the same file` });

    // HTTP: a bound path answered by the component vs a bare node:http hello server.
    const bound = await ask(node, {
      Call: { target: 'http-server:distro:sys', body: { Bind: { path: '/hello', authenticated: false, local_only: false, cache: false } } },
    });
    if (JSON.stringify(bound.body) !== '{"Ok":null}') throw new Error(`Bind failed: ${JSON.stringify(bound)}`);
    const hello = createServer((_q, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('hello');
    });
    await new Promise<void>((r) => hello.listen(0, '127.0.0.1', r));
    const helloUrl = `http://127.0.0.1:${(hello.address() as AddressInfo).port}/`;
    await loadRps(helloUrl, 500); // warm up the load generator's own parser too
    const floor = await loadRps(helloUrl, 2000);
    await new Promise((r) => hello.close(r));
    // Warm up first: the first requests compile the component's HTTP path (with TurboFan, on first
    // call) and would otherwise count against it. The driver records every request it serves;
    // drain its log so it does not grow unbounded.
    const boundUrl = `http://127.0.0.1:${node.port}/${DRIVER}/hello`;
    await loadRps(boundUrl, 500);
    await ask(node, 'Events');
    const rps = await loadRps(boundUrl, 2000);
    await ask(node, 'Events');
    ctx.add({ name: 'http_floor_rps', value: floor, unit: 'req/s' });
    ctx.add({ name: 'http_bound_path_rps', value: rps, unit: 'req/s', note: `${((rps / floor) * 100).toFixed(1)}% of the bare node:http floor` });
  } finally {
    await node.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * The goal: a module call from a component costs no more than a local round trip between
 * two components. Message path = the component's time per operation minus the store's own time
 * per operation (driven directly from Node).
 */
function moduleFigure(name: string, rate: number, direct: number, localUs: number): Figure {
  const pathUs = 1e6 / rate - 1e6 / direct;
  return {
    name,
    value: rate,
    unit: 'ops/s',
    goal: `message path <= local round trip per op (${localUs.toFixed(1)} us, modules_local_roundtrip_us)`,
    met: pathUs <= localUs,
    note: `${(direct / rate).toFixed(1)}x slower than direct; message path ${pathUs.toFixed(1)} us/op`,
  };
}
