// Which runtime a tests.toml asks for. FetchVersion means kit's embedded TypeScript runtime here
// (this kit downloads no Hyperdrive; said once). RepoPath names a Hyperdrive checkout, built with
// cargo in simulation mode as the real kit builds it, or a runtime file run as it is (a Hyperdrive
// binary, or kit's own `kit-hyperdrive`): every node is then that runtime, started with
// Hyperdrive's command line.

import { prepareRealRuntime } from '../real-runtime/index.js';
import type { Runtime } from './config.js';

export type RuntimeChoice = { kind: 'embedded'; note: string } | { kind: 'real'; note: string; binary: string };

export async function chooseRuntime(runtime: Runtime, release: boolean, onStep?: (text: string) => void): Promise<RuntimeChoice> {
  if ('RepoPath' in runtime) {
    const real = await prepareRealRuntime({
      runtimePath: runtime.RepoPath,
      release,
      simulation: true,
      label: 'tests.toml runtime RepoPath',
      onStep: (c) => onStep?.(`building the runtime at ${runtime.RepoPath}: ${c}`),
    });
    return {
      kind: 'real',
      binary: real.binary,
      note: `runtime RepoPath "${runtime.RepoPath}": every node runs ${real.binary}${real.built ? ' (built just now, simulation mode)' : ''} with Hyperdrive's command line`,
    };
  }
  return {
    kind: 'embedded',
    note: `runtime FetchVersion "${runtime.FetchVersion}": using kit's embedded TypeScript runtime (no download)`,
  };
}
