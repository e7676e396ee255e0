// Run the anvil binary that ships in @foundry-rs/anvil (no global Foundry needed).

import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { probeChain } from './rpc.js';

export class AnvilError extends Error {
  override name = 'AnvilError';
}

export function anvilBinary(): string {
  if (process.env.KIT_ANVIL) return process.env.KIT_ANVIL;
  const req = createRequire(import.meta.url);
  const arch = process.arch === 'arm64' ? 'arm64' : 'amd64';
  const pkg = `@foundry-rs/anvil-${process.platform}-${arch}`;
  try {
    const bin = join(dirname(req.resolve(`${pkg}/package.json`)), 'bin', 'anvil');
    if (existsSync(bin)) return bin;
  } catch {
    // fall through to the error below
  }
  throw new AnvilError(`anvil binary not found (looked for npm package ${pkg}); run \`npm install\` in kit's folder or set KIT_ANVIL`);
}

export interface AnvilOptions {
  port: number;
  /** Show anvil's output on our stdout/stderr. */
  verbose?: boolean;
  tracing?: boolean;
  /** A state file written from anvil_dumpState (JSON). */
  loadState?: string;
  cwd?: string;
  /** How long to wait for the RPC to answer. Default 10 s. */
  readyTimeoutMs?: number;
  /**
   * Run anvil as its own process (its own session, output appended to this file) that outlives
   * ours; otherwise it is our child and dies with us.
   */
  detachedLog?: string;
}

export interface AnvilProcess {
  readonly url: string;
  readonly port: number;
  readonly child: ChildProcess;
  /** SIGINT, then SIGKILL if it lingers; resolves when it is gone. */
  stop(): Promise<void>;
}

export async function spawnAnvil(opts: AnvilOptions): Promise<AnvilProcess> {
  const args = ['--port', String(opts.port), '--chain-id', '31337'];
  if (opts.tracing) args.push('--tracing');
  if (opts.loadState) args.push('--load-state', opts.loadState);
  const logFd = opts.detachedLog ? openSync(opts.detachedLog, 'a') : undefined;
  const child = spawn(anvilBinary(), args, {
    cwd: opts.cwd,
    detached: logFd !== undefined,
    stdio:
      logFd !== undefined
        ? ['ignore', logFd, logFd]
        : ['ignore', opts.verbose ? 'inherit' : 'ignore', opts.verbose ? 'inherit' : 'pipe'],
  });
  if (logFd !== undefined) closeSync(logFd);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  let exited = false;
  // Never leave an anvil behind if our process ends without stopping it (a crash, a forced exit),
  // unless it is meant to outlive us.
  const killOnExit = () => child.kill('SIGKILL');
  if (logFd === undefined) process.once('exit', killOnExit);
  else child.unref();
  const exit = new Promise<void>((res) => child.once('exit', () => res()));
  child.once('exit', () => {
    exited = true;
    process.off('exit', killOnExit);
  });
  const spawnError = new Promise<Error>((res) => child.once('error', res));
  const url = `http://127.0.0.1:${opts.port}`;
  const stop = async () => {
    if (exited) return;
    child.kill('SIGINT');
    const t = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exit;
    clearTimeout(t);
  };
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 10_000);
  let failed: Error | undefined;
  void spawnError.then((e) => {
    failed = e;
  });
  while (Date.now() < deadline) {
    if (failed) throw new AnvilError(`could not run anvil: ${failed.message}`);
    if (exited) {
      if (opts.detachedLog) stderr = readTail(opts.detachedLog);
      throw new AnvilError(`anvil exited before answering on port ${opts.port}${stderr ? `: ${stderr.trim()}` : ''}`);
    }
    if ((await probeChain(url, 500)) !== undefined) return { url, port: opts.port, child, stop };
    await new Promise((r) => setTimeout(r, 15));
  }
  await stop();
  throw new AnvilError(`Failed to connect to Anvil on port ${opts.port}; is the port already occupied?`);
}

function readTail(file: string): string {
  try {
    return readFileSync(file, 'utf8').slice(-4000);
  } catch {
    return '';
  }
}
