// Chain figures: a bare anvil (the floor), `kit chain`'s startChain until Hypermap answers
// (booted from the cached state), and a fake node booted with registration on a running chain.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnAnvil } from '../src/chain/anvil.js';
import { hasContracts, startChain } from '../src/chain/index.js';
import { bootNode } from '../src/runtime/node.js';
import type { BenchContext } from './run.js';
import { freePort, median } from './util.js';

const RUNS = 5;



export async function run(ctx: BenchContext): Promise<void> {
  // Warm-up: compiles the contracts and writes the state cache if this is the first run.
  const warm = await startChain({ port: await freePort() });
  await warm.stop();

  const anvil: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const port = await freePort();
    const t = performance.now();
    const a = await spawnAnvil({ port });
    anvil.push(performance.now() - t);
    await a.stop();
  }
  const anvilMs = median(anvil);
  ctx.add({ name: 'anvil_ready_ms', value: anvilMs, unit: 'ms', note: `bare anvil until eth_blockNumber answers, median of ${RUNS}` });

  const chain: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const port = await freePort();
    const t = performance.now();
    const c = await startChain({ port });
    if (!(await hasContracts(c.url))) throw new Error('chain came up without contracts');
    chain.push(performance.now() - t);
    await c.stop();
  }
  const chainMs = median(chain);
  ctx.add({
    name: 'chain_ready_ms',
    value: chainMs,
    unit: 'ms',
    goal: `<= 2 x anvil_ready_ms (${(2 * anvilMs).toFixed(1)})`,
    met: chainMs <= 2 * anvilMs,
    note: `ratio ${(chainMs / anvilMs).toFixed(2)}; anvil --load-state of the cached deploy`,
  });

  const c = await startChain({ port: await freePort() });
  const dir = mkdtempSync(join(tmpdir(), 'kit-bench-chain-'));
  const node: number[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      const n = await bootNode({ home: join(dir, `n${i}`), port: 0, name: `bench${i}.dev`, fakechainPort: c.port });
      node.push(performance.now() - t);
      await n.stop();
    }
  } finally {
    await c.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const nodeMs = median(node);
  const goal = 2 * anvilMs + 500;
  ctx.add({
    name: 'fake_node_ready_ms',
    value: nodeMs,
    unit: 'ms',
    goal: `<= 2 x anvil_ready_ms + 500 (${goal.toFixed(1)})`,
    met: nodeMs <= goal,
    note: 'bootNode in-process with key + name registration on a running chain',
  });
}
