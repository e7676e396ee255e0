// Run kit the two ways the CLI tests need: the real `bin/run.js` in a child process (what a user
// runs), and a command class in this process through @oclif/test's runCommand (flag parsing).

import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from '@oclif/test';

/** The repository root: the nearest folder above this file with bin/run.js. */
export const ROOT = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'bin', 'run.js'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the repository root (bin/run.js) above the compiled tests');
    dir = up;
  }
  return dir;
})();

export const BIN = join(ROOT, 'bin', 'run.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Spawn `kit <args>` and wait for it to exit (killed after `timeoutMs`). */
export function kit(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  const child = spawnKit(args, opts);
  child.stdin.end();
  return waitForExit(child, opts.timeoutMs ?? 60_000);
}

export function spawnKit(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, ...opts.env, NO_COLOR: '1' },
    stdio: 'pipe',
  });
}

export function waitForExit(child: ChildProcessWithoutNullStreams, timeoutMs: number): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Resolve with the first match of `pattern` in the child's stdout (rejects if it exits first). */
export function waitForOutput(child: ChildProcessWithoutNullStreams, pattern: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => done(new Error(`timed out waiting for ${pattern}; got:\n${seen}`)), timeoutMs);
    const onData = (d: Buffer) => {
      seen += d;
      const m = seen.match(pattern);
      if (m) done(undefined, m);
    };
    const onExit = (code: number | null) => done(new Error(`kit exited (${code}) before printing ${pattern}; got:\n${seen}`));
    const done = (err?: Error, m?: RegExpMatchArray) => {
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.stderr.off('data', onData);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(m!);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', onExit);
  });
}

/**
 * Run a command in this process as oclif would. The failing command's exit status is reported in
 * `exitCode`, and the process-wide exitCode oclif sets on errors is put back so it cannot fail
 * the test file. `print` passes output through while capturing it: the test runner reports on
 * this process's stdout, and a report swallowed by the capture would be a lost test result.
 */
export async function runInProcess(args: string[]) {
  const before = process.exitCode;
  const result = await runCommand(args, { root: ROOT }, { print: true });
  process.exitCode = before;
  const err = result.error as (Error & { oclif?: { exit?: number } }) | undefined;
  return { ...result, exitCode: err ? (err.oclif?.exit ?? 1) : 0 };
}
