// Running the external tools a build may need (cargo, componentize-py, npm). Output is captured
// so a failure can show it; with --verbose it also goes straight to the terminal.

import { spawn } from 'node:child_process';

export interface RunResult {
  code: number;
  /** stdout and stderr as they came. */
  output: string;
  stdout: string;
  /** The program is not installed (spawn ENOENT). */
  missing: boolean;
}

export function run(cmd: string, args: string[], opts: { cwd: string; verbose?: boolean; env?: NodeJS.ProcessEnv }): Promise<RunResult> {
  return new Promise((resolvePromise) => {
    let output = '';
    let stdout = '';
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const collect = (chunk: Buffer, to: NodeJS.WriteStream) => {
      output += chunk.toString('utf8');
      if (opts.verbose) to.write(chunk);
    };
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString('utf8');
      collect(c, process.stdout);
    });
    child.stderr.on('data', (c: Buffer) => collect(c, process.stderr));
    child.on('error', (e: NodeJS.ErrnoException) => resolvePromise({ code: -1, output: e.message, stdout, missing: e.code === 'ENOENT' }));
    child.on('close', (code) => resolvePromise({ code: code ?? -1, output, stdout, missing: false }));
  });
}

/** The last `n` lines of a tool's output, for error messages. */
export function tail(output: string, n = 30): string {
  const lines = output.trimEnd().split('\n');
  return lines.slice(-n).join('\n');
}
