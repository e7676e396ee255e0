// What the last build of a package used and produced, kept in target/kit-build.json, so the next
// build can tell, per process, whether anything it depends on changed.

import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface ProcessState {
  /** Hash over the build options and every input's content. */
  key: string;
  /** Inputs outside the process folder (process library, shared sources, npm packages, tsconfig). */
  external: string[];
  /** sha256 of the wasm this key produced. */
  wasm: string;
}

export interface BuildState {
  version: 1;
  processes: Record<string, ProcessState>;
  /** Hash of the UI sources at the last UI build, per UI folder. */
  ui: Record<string, string>;
  /** Hash of the WIT folder last validated for a world: `<world>:<hash>`. */
  wit?: string;
  /** Hash of pkg/ when it was last zipped, and the zip's sha256. */
  zip?: { pkg: string; sha256: string };
  /** Hash of target/api when pkg/api.zip was last written. */
  api?: string;
}

export function statePath(packageDir: string): string {
  return join(packageDir, 'target', 'kit-build.json');
}

export function emptyState(): BuildState {
  return { version: 1, processes: {}, ui: {} };
}

export function readState(packageDir: string): BuildState {
  try {
    const parsed = JSON.parse(readFileSync(statePath(packageDir), 'utf8')) as BuildState;
    if (parsed.version !== 1 || typeof parsed.processes !== 'object') return emptyState();
    parsed.ui ??= {};
    return parsed;
  } catch {
    return emptyState(); // no state or a broken one: build everything
  }
}

/** Written through a rename so an interrupted build never leaves half a state file. */
export function writeState(packageDir: string, state: BuildState): void {
  const path = statePath(packageDir);
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 1)}\n`);
  renameSync(tmp, path);
}
