// The edit-run loop (issue 21): development builds and kit watch.
//
// Floors, measured here on the same source: esbuild_bundle_ms (bundling the echo template's
// TypeScript process, what any build of it must do) and process_restart_ms (replacing that
// process on a node with the same wasm over the RPC: kill, initialize, run; no build at all).
//
// - edit_to_running_ms: a kit watch session (watchPackage, what `kit watch` runs) on the echo
//   template against a fake node in its own OS process; one line of the process changed, until
//   the node answers with the new behaviour. p50 of EDITS edits.
// - build_cold_chat_ms: `kit build --dev --force` of a freshly made chat template (two TS
//   processes), the real binary from a cold start, the development engine already on this machine.
//   dev_engine_ms: making that engine (once per machine, world signature and features).
// - run_tests_first_ms: `kit run-tests` of the echo template's suite in a fresh checkout.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleProcess } from '../src/build/bundle.js';
import { ComponentizeWorker } from '../src/build/componentize-pool.js';
import { enabledFeatures, engineKey, worldSignature } from '../src/build/dev/engine.js';
import { DEFAULT_DISABLED_FEATURES } from '../src/build/componentize.js';
import { createLogger } from '../src/core/log.js';
import { makeMessage, nodeUrl, sendMessage } from '../src/node-client/rpc.js';
import { swapProcess } from '../src/package/swap.js';
import { watchPackage } from '../src/watch/index.js';
import type { BenchContext } from './run.js';
import { freePort, runKit as kit, median } from './util.js';

const EDITS = 7;
const FLOOR_RUNS = 5;
const COLD_RUNS = 3;


async function bootNode(repo: string, home: string): Promise<{ port: number; child: ChildProcess; stop(): Promise<void> }> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(repo, 'bin/run.js'), 'boot-fake-node', '--detached', '-p', String(port), '-o', home, '-c', String(await freePort())], {
    stdio: 'ignore',
  });
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (await fetch(`http://localhost:${port}/our`).then((r) => r.ok, () => false)) break;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error('the fake node did not come up');
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    child,
    stop: () =>
      new Promise<void>((r) => {
        if (child.exitCode !== null) return r();
        child.once('exit', () => r());
        child.kill('SIGINT');
      }),
  };
}

async function ask(port: number, process: string): Promise<string> {
  const r = await sendMessage(nodeUrl(port), makeMessage({ process, body: '"ping"' }));
  return r?.body ?? '';
}

export async function run(ctx: BenchContext): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'kit-bench-dev-'));
  const quiet = createLogger({ target: 'kit::bench', terminal: null });
  try {
    // --- the engine, made once (into a private folder: the machine's own stays as it is) ---
    const echoDir = join(work, 'echo');
    const made = await kit(ctx.repo, ['new', echoDir, '-t', 'echo', '-l', 'typescript'], work);
    if (made.code !== 0) throw new Error(`kit new failed: ${made.out}`);
    const first = await kit(ctx.repo, ['build', '--dev', echoDir], work);
    if (first.code !== 0) throw new Error(`kit build --dev failed: ${first.out}`);
    {
      const features = enabledFeatures(DEFAULT_DISABLED_FEATURES);
      const witPath = join(echoDir, 'target', 'wit');
      const dir = join(work, 'engines', engineKey(await worldSignature(witPath, 'process-v1'), features));
      const worker = new ComponentizeWorker();
      const t0 = performance.now();
      try {
        await worker.prepareEngine({ dir, witPath, worldName: 'process-v1', features });
      } finally {
        worker.terminate();
      }
      ctx.add({ name: 'dev_engine_ms', value: performance.now() - t0, unit: 'ms', note: 'making the development engine: once per machine, world signature and features' });
    }

    // --- floors ---
    const lib = join(echoDir, 'echo', 'src', 'lib.ts');
    const bundles: number[] = [];
    for (let i = 0; i < FLOOR_RUNS; i++) {
      const t0 = performance.now();
      await bundleProcess({ packageDir: echoDir, processName: 'echo', entry: lib, outFile: join(work, 'floor', 'echo.js') });
      bundles.push(performance.now() - t0);
    }
    const bundleMs = median(bundles);
    ctx.add({ name: 'esbuild_bundle_ms', value: bundleMs, unit: 'ms', note: `the echo template's TS process, median of ${FLOOR_RUNS}` });

    const node = await bootNode(ctx.repo, join(work, 'home'));
    const id = 'echo:echo:template.os';
    try {
      const lines: string[] = [];
      const session = watchPackage({ packageDir: echoDir, nodes: [nodeUrl(node.port)], print: (line) => lines.push(line), logger: quiet, ui: false });
      await session.ready;
      await session.idle();
      try {
        if (!lines.some((l) => l.startsWith('installed on'))) throw new Error(`kit watch did not install: ${lines.join('\n')}`);
        const wasm = new Uint8Array(readFileSync(join(echoDir, 'pkg', 'echo.wasm')));
        const restarts: number[] = [];
        for (let i = 0; i < FLOOR_RUNS; i++) {
          const t0 = performance.now();
          const r = await swapProcess(nodeUrl(node.port), id, wasm);
          restarts.push(performance.now() - t0);
          await r.persist();
        }
        const restartMs = median(restarts);
        ctx.add({ name: 'process_restart_ms', value: restartMs, unit: 'ms', note: `the same wasm swapped in over the RPC (kill, initialize, run), median of ${FLOOR_RUNS}` });

        // --- edit to running ---
        const original = readFileSync(lib, 'utf8');
        const edits: number[] = [];
        for (let i = 0; i < EDITS; i++) {
          const tag = `v${i}-${Date.now()}`;
          const reloads = lines.filter((l) => l.startsWith('reloaded')).length;
          const t0 = performance.now();
          writeFileSync(lib, original.replace('respond(message.body,', `respond(${JSON.stringify(JSON.stringify(tag))},`));
          const deadline = Date.now() + 120_000;
          while (lines.filter((l) => l.startsWith('reloaded')).length === reloads) {
            if (Date.now() > deadline) throw new Error(`no reload after an edit:\n${lines.join('\n')}`);
            await new Promise((r) => setTimeout(r, 5));
          }
          const answer = await ask(node.port, id);
          if (!answer.includes(tag)) throw new Error(`after the reload the process answered ${answer}, not ${tag}`);
          edits.push(performance.now() - t0);
          // as between a developer's saves: the watch has finished this reload's VFS writes
          await session.idle();
        }
        writeFileSync(lib, original);
        const p50 = median(edits);
        const floor = bundleMs + restartMs;
        ctx.add({
          name: 'edit_to_running_ms',
          value: p50,
          unit: 'ms',
          goal: '<= 1000',
          met: p50 <= 1000,
          note: `p50 of ${EDITS} edits (${edits.map((e) => e.toFixed(0)).join(', ')}); ${(p50 / floor).toFixed(2)} x (esbuild_bundle_ms + process_restart_ms)`,
        });
      } finally {
        await session.stop();
      }
    } finally {
      await node.stop();
    }

    // --- cold build of the chat template ---
    const cold: number[] = [];
    for (let i = 0; i < COLD_RUNS; i++) {
      const dir = join(work, `chat-${i}`);
      const n = await kit(ctx.repo, ['new', dir, '-t', 'chat', '-l', 'typescript'], work);
      if (n.code !== 0) throw new Error(`kit new chat failed: ${n.out}`);
      const b = await kit(ctx.repo, ['build', '--dev', '--force', dir], work);
      if (b.code !== 0) throw new Error(`kit build --dev chat failed: ${b.out}`);
      cold.push(b.ms);
    }
    const coldMs = median(cold);
    ctx.add({
      name: 'build_cold_chat_ms',
      value: coldMs,
      unit: 'ms',
      goal: '<= 5000',
      met: coldMs <= 5000,
      note: `kit build --dev --force of a new chat template (2 TS processes), the binary from a cold start, median of ${COLD_RUNS} (${cold.map((c) => c.toFixed(0)).join(', ')})`,
    });

    // --- first run-tests of a fresh checkout ---
    const firsts: number[] = [];
    for (let i = 0; i < COLD_RUNS; i++) {
      const dir = join(work, `tests-${i}`, 'echo');
      const n = await kit(ctx.repo, ['new', dir, '-t', 'echo', '-l', 'typescript'], work);
      if (n.code !== 0) throw new Error(`kit new echo failed: ${n.out}`);
      const toml = join(dir, 'test', 'tests.toml');
      let k = 0;
      const ports = [await freePort(), await freePort()];
      writeFileSync(toml, readFileSync(toml, 'utf8').replace(/^(port|fakechain_router) = \d+$/gm, (_m, key: string) => `${key} = ${ports[k++ % 2]}`));
      const r = await kit(ctx.repo, ['run-tests'], dir);
      if (r.code !== 0) throw new Error(`kit run-tests failed:\n${r.out}`);
      firsts.push(r.ms);
    }
    const firstMs = median(firsts);
    const byHand = ctx.get('run_tests_by_hand_ms');
    ctx.add({
      name: 'run_tests_first_ms',
      value: firstMs,
      unit: 'ms',
      goal: '<= 10000',
      met: firstMs <= 10000,
      note: `kit run-tests of the echo template in a fresh checkout (builds both packages), median of ${COLD_RUNS} (${firsts.map((f) => f.toFixed(0)).join(', ')})${byHand ? `; ${(firstMs / byHand).toFixed(2)} x run_tests_by_hand_ms` : ''}`,
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
