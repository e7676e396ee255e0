// Web UIs: a top-level folder with a package.json (not a process) is built with its
// `build:copy` script, which by convention builds and copies the result into ../pkg/ui.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StepFailedError, ToolchainError } from './errors.js';
import { run, tail } from './exec.js';
import { hashFiles, hashValue, listFiles } from './hash.js';

/** Hash of a UI's sources (node_modules, dist and target skipped). */
export function uiSourceHash(dir: string): string {
  return hashValue(hashFiles(listFiles(dir)));
}

function npmInstallNeeded(dir: string): boolean {
  if (!existsSync(join(dir, 'node_modules'))) return true;
  // npm writes node_modules/.package-lock.json on every install; an older one means package.json changed since.
  const hidden = join(dir, 'node_modules', '.package-lock.json');
  if (!existsSync(hidden)) return true;
  try {
    const installed = JSON.parse(readFileSync(hidden, 'utf8')).packages ?? {};
    const wanted = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const deps = { ...(wanted.dependencies ?? {}), ...(wanted.devDependencies ?? {}) };
    return Object.keys(deps).some((name) => !installed[`node_modules/${name}`]);
  } catch {
    return true;
  }
}

export async function buildUi(opts: { name: string; dir: string; verbose: boolean }): Promise<void> {
  const scripts = JSON.parse(readFileSync(join(opts.dir, 'package.json'), 'utf8')).scripts ?? {};
  if (!scripts['build:copy'])
    throw new StepFailedError(
      `UI ${opts.name}: ${join(opts.dir, 'package.json')} has no "build:copy" script.`,
      'Add "build:copy": "npm run build && mkdir -p ../pkg/ui && rm -rf ../pkg/ui/* && cp -r dist/* ../pkg/ui/", or pass --no-ui.',
    );
  if (npmInstallNeeded(opts.dir)) {
    const res = await run('npm', ['install'], { cwd: opts.dir, verbose: opts.verbose });
    if (res.missing) throw new ToolchainError(`UI ${opts.name} needs npm, which is not installed.`, 'Install Node.js 20+ with npm, or pass --no-ui.');
    if (res.code !== 0) throw new StepFailedError(`UI ${opts.name}: npm install failed:\n${tail(res.output)}`);
  }
  const res = await run('npm', ['run', 'build:copy'], { cwd: opts.dir, verbose: opts.verbose });
  if (res.missing) throw new ToolchainError(`UI ${opts.name} needs npm, which is not installed.`, 'Install Node.js 20+ with npm, or pass --no-ui.');
  if (res.code !== 0) throw new StepFailedError(`UI ${opts.name}: npm run build:copy failed:\n${tail(res.output)}`);
}
