// `startChain`: what `kit chain` and fake-node boot use to get a chain with kit's contracts on a port.
// The first time, kit deploys on a bare anvil and saves anvil's state under KIT_CACHE; later chains
// boot from that state (`--load-state`), so they are ready about as fast as a bare anvil.

import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { KIT_CACHE } from '../core/cache.js';
import { type AnvilProcess, spawnAnvil } from './anvil.js';
import { contractsHash } from './compile.js';
import { deployContracts, hasContracts } from './deploy.js';
import { rpcCall, probeChain } from './rpc.js';

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
}

export interface Chain {
  readonly url: string;
  readonly port: number;
  /** True when we started anvil (and stop() stops it); false when we reuse a chain already there. */
  readonly owned: boolean;
  /** True when the reused chain had no contracts and we deployed them. */
  readonly deployed: boolean;
  readonly child?: AnvilProcess['child'];
  stop(): Promise<void>;
}

export function chainUrl(port: number): string {
  return `http://127.0.0.1:${port}`;
}

function stateFile(): string {
  return join(KIT_CACHE, 'chain', `state-${contractsHash()}.json`);
}

export async function startChain(opts: StartChainOptions): Promise<Chain> {
  const url = chainUrl(opts.port);
  if ((await probeChain(url)) !== undefined) return reuse(url, opts.port);
  await assertPortFree(opts.port);

  const state = stateFile();
  mkdirSync(join(KIT_CACHE, 'chain'), { recursive: true });
  let cached = existsSync(state);
  const spawn = () =>
    spawnAnvil({ port: opts.port, verbose: opts.verbose, tracing: opts.tracing, loadState: cached ? state : undefined, cwd: KIT_CACHE });
  let anvil: AnvilProcess;
  try {
    anvil = await spawn();
  } catch (e) {
    // Another kit (a second fake node booting at the same time) may have taken the port first.
    if ((await probeChain(url)) !== undefined) return reuse(url, opts.port);
    if (!cached) throw e;
    // A state file this anvil cannot load (e.g. another anvil version wrote it): deploy afresh.
    rmSync(state, { force: true });
    cached = false;
    anvil = await spawn();
  }
  try {
    if (!cached || !(await hasContracts(url))) {
      await deployContracts(url);
      await saveState(url, state);
    }
  } catch (e) {
    await anvil.stop();
    throw e;
  }
  return { url, port: opts.port, owned: true, deployed: true, child: anvil.child, stop: () => anvil.stop() };
}

/** A chain someone else started: make sure the contracts are there (its starter may still be deploying). */
async function reuse(url: string, port: number): Promise<Chain> {
  let deployed = false;
  if (!(await hasContracts(url))) {
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline && !(await hasContracts(url))) await new Promise((r) => setTimeout(r, 100));
    if (!(await hasContracts(url))) {
      await deployContracts(url);
      deployed = true;
    }
  }
  return { url, port, owned: false, deployed, stop: async () => {} };
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
