// Which runtime a tests.toml asks for. FetchVersion means the embedded TypeScript runtime here
// (said once); RepoPath needs a real Hyperdrive built from that repo, which this kit cannot drive
// yet: one function, so real-runtime support can be wired in here later.

import { existsSync } from 'node:fs';
import { KitError } from '../cli/errors.js';
import type { Runtime } from './config.js';

export type RuntimeChoice = { kind: 'embedded'; note: string };

export class RuntimeUnavailableError extends KitError {
  override name = 'RuntimeUnavailableError';
}

export function chooseRuntime(runtime: Runtime, release: boolean): RuntimeChoice {
  if ('RepoPath' in runtime) {
    const where = existsSync(runtime.RepoPath) ? '' : ' (and that path does not exist)';
    throw new RuntimeUnavailableError(
      `runtime = { RepoPath = "${runtime.RepoPath}" }${where}: RepoPath needs a real Hyperdrive built from that repo${release ? ' in release mode' : ''}, which this kit cannot build or run yet`,
      { hint: 'use runtime = { FetchVersion = "latest" } for the embedded runtime' },
    );
  }
  return {
    kind: 'embedded',
    note: `runtime FetchVersion "${runtime.FetchVersion}": using kit's embedded TypeScript runtime (no download)`,
  };
}
