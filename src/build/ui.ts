// Web UIs: a top-level folder with a package.json (not a process) is built with its
// `build:copy` script, which by convention builds and copies the result into ../pkg/ui.
// Dependencies come from `npm install`, or from kit's cache of identical installs (ui-deps.ts).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StepFailedError, ToolchainError } from './errors.js';
import { run, tail } from './exec.js';
import { hashFiles, hashValue, listFiles } from './hash.js';
import { ensureUiDeps } from './ui-deps.js';

export { ensureUiDeps, npmInstallNeeded } from './ui-deps.js';

/** Hash of a UI's sources (node_modules, dist and target skipped). */
export function uiSourceHash(dir: string): string {
  return hashValue(hashFiles(listFiles(dir)));
}

export async function buildUi(opts: { name: string; dir: string; verbose: boolean }): Promise<void> {
  const scripts = JSON.parse(readFileSync(join(opts.dir, 'package.json'), 'utf8')).scripts ?? {};
  if (!scripts['build:copy'])
    throw new StepFailedError(
      `UI ${opts.name}: ${join(opts.dir, 'package.json')} has no "build:copy" script.`,
      'Add "build:copy": "npm run build && mkdir -p ../pkg/ui && rm -rf ../pkg/ui/* && cp -r dist/* ../pkg/ui/", or pass --no-ui.',
    );
  await ensureUiDeps(opts);
  const res = await run('npm', ['run', 'build:copy'], { cwd: opts.dir, verbose: opts.verbose });
  if (res.missing) throw new ToolchainError(`UI ${opts.name} needs npm, which is not installed.`, 'Install Node.js 20+ with npm, or pass --no-ui.');
  if (res.code !== 0)
    throw new StepFailedError(
      `UI ${opts.name}: npm run build:copy failed, so pkg/ was left as it was:\n${tail(res.output.split('\n').filter((l) => !/^npm warn /.test(l)).join('\n'))}`,
      'Fix the error above and run kit build again (or pass --no-ui to build only the processes).',
    );
}
