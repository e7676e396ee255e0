// Python processes: componentize-py against target/wit and the package's world, as kit does
// (kit pins componentize-py 0.11.0 and installs it in a venv; here it must already be on PATH,
// since packages cannot be fetched on every machine kit runs on).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProcessDir } from './detect.js';
import { StepFailedError, ToolchainError } from './errors.js';
import { run, tail } from './exec.js';

let checked: Promise<void> | undefined;

const INSTALL = 'Install Python >= 3.10 and componentize-py (`pip install componentize-py==0.11.0`) so `componentize-py` is on PATH.';

export function checkPythonToolchain(processName: string): Promise<void> {
  checked ??= (async () => {
    const res = await run('componentize-py', ['--version'], { cwd: process.cwd() });
    if (res.missing || res.code !== 0)
      throw new ToolchainError(`process ${processName} is written in Python, but componentize-py is not installed.`, `${INSTALL} Or pass -s/--skip-deps-check to try anyway.`);
  })();
  return checked;
}

export async function buildPython(opts: { witDir: string; world: string; proc: ProcessDir; outPath: string; verbose: boolean }): Promise<Uint8Array> {
  const { proc } = opts;
  const args = ['-d', opts.witDir, '-w', opts.world, 'componentize', 'lib', '-o', opts.outPath];
  const res = await run('componentize-py', args, { cwd: join(proc.dir, 'src'), verbose: opts.verbose });
  if (res.missing) throw new ToolchainError(`process ${proc.name} is written in Python, but componentize-py is not installed.`, INSTALL);
  if (res.code !== 0) throw new StepFailedError(`process ${proc.name}: componentize-py failed:\n${tail(res.output)}`);
  return readFileSync(opts.outPath);
}
