// `startChain`: what `kit chain`, fake-node boot and run-tests use to get a chain ready for fake
// nodes on a port. A chain already answering there is used as it is (set up the real kit's way
// first if it lacks the `os` account; `dev` minted if missing). Otherwise kit starts anvil: the
// first time it lays its contracts out on a bare anvil and saves anvil's state under KIT_CACHE;
// later chains boot from that state (`--load-state`), ready about as fast as a bare anvil.
//
// Lifetimes: `kit chain` runs anvil as its child until Ctrl-C ('foreground'). Fake nodes and
// run-tests share a chain ('shared'): anvil runs as its own process, each user holds a lease
// (lease.ts), and the last one to let go stops it, so stopping the node that started the chain
// leaves it up for the others, and a rebooted node finds them again.

import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { KIT_CACHE } from '../core/cache.js';
import { type AnvilProcess, spawnAnvil } from './anvil.js';
import { contractsHash } from './compile.js';
import { type ChainReport, describeChain, prepareChain } from './deploy.js';
import { chainDir, readSharedAnvil, releaseLease, stopSharedAnvil, takeLease, writeSharedAnvil } from './lease.js';
import { probeChain, rpcCall } from './rpc.js';

export class ChainPortInUseError extends Error {
  override name = 'ChainPortInUseError';
  constructor(readonly port: number) {
    super(`Port ${port} is in use by something that is not an Ethereum JSON-RPC node; stop it or pick another port (kit chain -p <PORT>)`);
  }
}

export interface StartChainOptions {
  port: number;
  verbose?: boolean;
  tracing?: boolean;
  /** 'shared' (default): anvil outlives this process while others use it. 'foreground': our child. */
  lifetime?: 'shared' | 'foreground';
}

export interface Chain {
  readonly url: string;
  readonly port: number;
  /** True when this call started anvil. */
  readonly owned: boolean;
  /** Who runs the anvil, in words: "started now by kit", "started by kit (pid 123)", "not started by kit". */
  readonly runBy: string;
  /** What kit found on the chain and did to it. */
  readonly report: ChainReport;
  /** The anvil child of a 'foreground' chain this call started. */
  readonly child?: AnvilProcess['child'];
  /** Foreground: stop anvil. Shared: let go; the last user stops an anvil kit started. */
  stop(): Promise<void>;
}

/** "chain on 8545: started by kit (pid 123); set up by kit (this kit's contracts); os account present at 0x9b38…; dev present" */
export function describeFoundChain(chain: Chain): string {
  return `chain on ${chain.port}: ${chain.runBy}; ${describeChain(chain.report)}`;
}

export function chainUrl(port: number): string {
  return `http://127.0.0.1:${port}`;
}

/** Bump when what kit puts on a fresh chain changes without a contract change (the cached state keys on it). */
const LAYOUT = 'real-addresses-1';

function stateFile(): string {
  return join(KIT_CACHE, 'chain', `state-${contractsHash()}-${LAYOUT}.json`);
}

export async function startChain(opts: StartChainOptions): Promise<Chain> {
  if (opts.lifetime === 'foreground') return startForeground(opts);
  const lease = await takeLease(opts.port);
  const letGo = () => releaseLease(opts.port, lease, async () => void (await stopSharedAnvil(opts.port)));
  try {
    const chain = await startShared(opts);
    return { ...chain, stop: letGo };
  } catch (e) {
    await letGo();
    throw e;
  }
}

type Started = Omit<Chain, 'stop'> & { stop?: () => Promise<void> };

async function startShared(opts: StartChainOptions): Promise<Started> {
  const url = chainUrl(opts.port);
  if ((await probeChain(url)) !== undefined) return attach(url, opts.port);
  await assertPortFree(opts.port);
  mkdirSync(chainDir(opts.port), { recursive: true });
  const log = join(chainDir(opts.port), 'anvil.log');
  writeFileSync(log, '');
  const spawned = await spawnFromState(opts, (o) => spawnAnvil({ ...o, detachedLog: log }));
  if (!spawned) return attach(url, opts.port);
  const { anvil, cached } = spawned;
  writeSharedAnvil({ pid: anvil.child.pid as number, port: opts.port, started: new Date().toISOString(), log });
  const report = await setUp(url, cached);
  return { url, port: opts.port, owned: true, runBy: `started now by kit (pid ${anvil.child.pid}; it stops when the last node using it stops)`, report };
}

async function startForeground(opts: StartChainOptions): Promise<Chain> {
  const url = chainUrl(opts.port);
  if ((await probeChain(url)) !== undefined) return { ...(await attach(url, opts.port)), stop: async () => {} };
  await assertPortFree(opts.port);
  const spawned = await spawnFromState(opts, (o) => spawnAnvil(o));
  if (!spawned) return { ...(await attach(url, opts.port)), stop: async () => {} };
  const { anvil, cached } = spawned;
  try {
    const report = await setUp(url, cached);
    return { url, port: opts.port, owned: true, runBy: 'started now by kit chain', report, child: anvil.child, stop: () => anvil.stop() };
  } catch (e) {
    await anvil.stop();
    throw e;
  }
}

/** Spawn anvil from the saved state if there is one; undefined when another kit took the port first. */
async function spawnFromState(
  opts: StartChainOptions,
  spawn: (o: Parameters<typeof spawnAnvil>[0]) => Promise<AnvilProcess>,
): Promise<{ anvil: AnvilProcess; cached: boolean } | undefined> {
  const url = chainUrl(opts.port);
  const state = stateFile();
  mkdirSync(join(KIT_CACHE, 'chain'), { recursive: true });
  const cached = existsSync(state);
  const base = { port: opts.port, verbose: opts.verbose, tracing: opts.tracing, cwd: KIT_CACHE };
  try {
    return { anvil: await spawn({ ...base, loadState: cached ? state : undefined }), cached };
  } catch (e) {
    // Another kit (a second fake node booting at the same time) may have taken the port first.
    if ((await probeChain(url)) !== undefined) return undefined;
    if (!cached) throw e;
    // A state file this anvil cannot load (e.g. another anvil version wrote it): lay out afresh.
    rmSync(state, { force: true });
    return { anvil: await spawn(base), cached: false };
  }
}

/** A fresh anvil we started: set up (unless its state had it all) and save its state for next time. */
async function setUp(url: string, cached: boolean): Promise<ChainReport> {
  const report = await prepareChain(url);
  if (!cached || report.os === 'created' || report.dev === 'minted') {
    await saveState(url, stateFile());
    return { ...report, contracts: 'laid out now' };
  }
  return report;
}

/** A chain someone else started: set it up if it lacks what fake nodes need, and say whose it is. */
async function attach(url: string, port: number): Promise<Started> {
  const shared = readSharedAnvil(port);
  const runBy = shared ? `started by kit (pid ${shared.pid}, ${shared.started})` : 'not started by this kit (kit chain, the real kit or anvil itself; kit leaves it running)';
  return { url, port, owned: false, runBy, report: await prepareChain(url) };
}

/** anvil_dumpState answers with gzipped JSON as hex; --load-state wants the JSON. */
async function saveState(url: string, file: string): Promise<void> {
  const hex = await rpcCall<string>(url, 'anvil_dumpState', [], 10_000);
  const raw = Buffer.from(hex.replace(/^0x/, ''), 'hex');
  const json = raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw;
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, json);
  renameSync(tmp, file);
}

function assertPortFree(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', (e: NodeJS.ErrnoException) => {
      reject(e.code === 'EADDRINUSE' || e.code === 'EACCES' ? new ChainPortInUseError(port) : e);
    });
    srv.listen({ port, host: '127.0.0.1' }, () => srv.close(() => resolve()));
  });
}
