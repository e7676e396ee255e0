// Run the real `kit` binary as a user would, and collect what it printed.

import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (tests run from dist/test/...). */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export interface KitResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr together, for messages that may go to either. */
  output: string;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Killed (SIGKILL) after this long; default 2 minutes. */
  timeoutMs?: number;
}

export function runKit(args: string[], opts: RunOptions = {}): Promise<KitResult> {
  return runCommand(process.execPath, [join(REPO, 'bin/run.js'), ...args], opts);
}

/** Run any command (npm, an installed kit) the same way. */
export function runCommand(cmd: string, args: string[], opts: RunOptions = {}): Promise<KitResult> {
  return new Promise((res) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd ?? REPO,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      res({ code, stdout, stderr, output: stdout + stderr });
    });
  });
}
