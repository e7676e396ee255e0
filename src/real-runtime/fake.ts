// `kit boot-fake-node --runtime-path`: a real Hyperdrive simulation-mode build as the fake node,
// on kit's fake chain, with the flags the real kit passes (interop §5.2): kit starts the chain
// if none answers (shared with the other nodes: it stops when the last of them stops), runs the
// node in the foreground, and deletes the home on exit unless --persist.

import { rmSync } from 'node:fs';
import { fakeNodeArgs, prepareRealRuntime, runRuntime } from './index.js';

export interface RealFakeNodeOptions {
  runtimePath: string;
  release: boolean;
  home: string;
  port: number;
  name: string;
  password: string;
  fakechainPort: number;
  verbosity: number;
  rpc?: string;
  persist: boolean;
  extra: string[];
  log: (line: string) => void;
}

/** Resolves with the node's exit status once it has exited and everything is cleaned up. */
export async function bootRealFakeNode(o: RealFakeNodeOptions): Promise<number> {
  const runtime = await prepareRealRuntime({
    runtimePath: o.runtimePath,
    release: o.release,
    simulation: true,
    verbose: true,
    onStep: (c) => o.log(`Building Hyperdrive (simulation mode): ${c}`),
  });
  const { describeFoundChain, startChain } = await import('../chain/index.js');
  const chain = await startChain({ port: o.fakechainPort });
  o.log(describeFoundChain(chain));
  const args = fakeNodeArgs({ ...o, fakechainPort: o.fakechainPort });
  o.log(`Running ${runtime.binary} ${args.join(' ')}`);
  try {
    return await runRuntime(runtime.binary, args);
  } finally {
    await chain.stop();
    if (!o.persist) {
      o.log(`Cleaning up ${o.home}...`);
      rmSync(o.home, { recursive: true, force: true });
      o.log(`Done cleaning up ${o.home}.`);
    }
  }
}
