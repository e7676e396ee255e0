// Package dev loop figures (issue 3): componentize-js alone on the echo template's bundle (the
// floor), a cold `kit build` of the echo template against it, a build where nothing changed, and
// `kit start-package` of the chat template on a node running in this process.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPackage, type ComponentizeFn } from '../src/build/build.js';
import { componentizeJs } from '../src/build/componentize.js';
import { removePackage, startPackage } from '../src/package/start.js';
import { createLogger } from '../src/core/log.js';
import { bootNode } from '../src/runtime/node.js';
import { createPackage } from '../src/templates/index.js';
import type { BenchContext } from './run.js';

const NOOP_RUNS = 5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export async function run(ctx: BenchContext): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'kit-bench-build-'));
  const quiet = createLogger({ target: 'kit::bench', terminal: null });
  try {
    const echo = join(work, 'echo');
    await createPackage({ dir: echo, template: 'echo', language: 'typescript' });

    // Bundle and lay out the WIT exactly as `kit build` does, but capture componentize's
    // arguments instead of running it, so the floor is measured on the very same input.
    let captured: Parameters<ComponentizeFn>[0] | undefined;
    const capture: ComponentizeFn = async (args) => {
      captured = args;
      return { bytes: new Uint8Array([0]), ms: 0 };
    };
    await buildPackage({ dir: echo, logger: quiet, progress: null, componentize: capture, componentCacheDir: join(work, 'cache-capture') });
    if (!captured) throw new Error('the echo build never asked for componentize');
    const floor = await componentizeJs({ ...captured, outPath: join(work, 'floor.wasm'), log: quiet });
    ctx.add({ name: 'componentize_floor_ms', value: floor.ms, unit: 'ms', note: 'componentize-js alone, echo template bundle' });

    // Cold: nothing cached (fresh component cache, --force past the incremental state).
    const cold = await buildPackage({ dir: echo, logger: quiet, progress: null, force: true, componentCacheDir: join(work, 'cache-cold') });
    if (cold.componentized !== 1) throw new Error(`cold build componentized ${cold.componentized} processes, expected 1`);
    const limit = 1.2 * floor.ms;
    ctx.add({
      name: 'build_cold_ms',
      value: cold.ms,
      unit: 'ms',
      goal: `<= 1.2 x componentize_floor_ms (${limit.toFixed(0)})`,
      met: cold.ms <= limit,
    });

    const noops: number[] = [];
    for (let i = 0; i < NOOP_RUNS; i++) {
      const r = await buildPackage({ dir: echo, logger: quiet, progress: null, componentCacheDir: join(work, 'cache-cold') });
      if (r.componentized !== 0 || r.rebuilt.length !== 0) throw new Error(`a build with nothing changed rebuilt ${r.rebuilt.join(', ')}`);
      noops.push(r.ms);
    }
    const noop = median(noops);
    ctx.add({ name: 'build_noop_ms', value: noop, unit: 'ms', goal: '<= 500', met: noop <= 500, note: `median of ${NOOP_RUNS}` });

    // start-package: NewPackage + Install over the RPC to a running node, chat template (2 processes).
    const chat = join(work, 'chat');
    await createPackage({ dir: chat, template: 'chat', language: 'typescript' });
    await buildPackage({ dir: chat, logger: quiet, progress: null });
    const node = await bootNode({ home: join(work, 'home'), port: 0, name: 'bench.dev', log: quiet });
    try {
      // Installing transpiles each component once (cached by content in $KIT_CACHE); warm that
      // cache with one install so the figure is the loop a developer repeats, then reinstall.
      const t1 = performance.now();
      await startPackage({ packageDir: chat, url: node.url });
      const first = performance.now() - t1;
      ctx.add({
        name: 'start_package_first_ms',
        value: first,
        unit: 'ms',
        note: 'first install of these components: includes jco transpile unless an earlier run cached it',
      });
      await removePackage({ packageDir: chat, url: node.url });
      const t0 = performance.now();
      await startPackage({ packageDir: chat, url: node.url });
      const ms = performance.now() - t0;
      ctx.add({ name: 'start_package_ms', value: ms, unit: 'ms', goal: '<= 1000', met: ms <= 1000, note: 'chat template, transpile cache warm' });
    } finally {
      await node.stop();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
