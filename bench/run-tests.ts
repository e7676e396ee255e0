// run-tests figures: `kit run-tests` on the echo template's tests with its packages already built
// (run_tests_echo_ms), against doing the same by hand in the same run (the floor): `kit chain`,
// `kit boot-fake-node`, `kit start-package` of echo and of echo-test, `kit inject-message` of the
// tester's Run body to echo-test, then stopping node and chain.

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchContext } from './run.js';
import { freePort, runKit as kit, median } from './util.js';

const RUNS = 3;




function background(repo: string, args: string[], cwd: string): ChildProcess {
  return spawn(process.execPath, [join(repo, 'bin/run.js'), ...args], { cwd, stdio: 'ignore' });
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGINT');
  await done;
}

export async function run(ctx: BenchContext): Promise<void> {
  // Under /tmp at the e2e suite's depth: the bundles (and so the cached components) depend on the
  // path from the package to kit, so both reuse the same components.
  const work = join(tmpdir(), 'kit-bench-run-tests', 'ts');
  const dir = join(work, 'echo');
  mkdirSync(work, { recursive: true });
  if (!existsSync(join(dir, 'test', 'tests.toml'))) {
    const r = await kit(ctx.repo, ['new', dir, '-t', 'echo', '-l', 'typescript'], ctx.repo);
    if (r.code !== 0) throw new Error(`kit new failed: ${r.out}`);
  }
  // By hand, kit's RPC (http-server) sends the Run to echo-test itself, which answers it only if it
  // holds http-server's capability (every Response is capability-checked, as on Hyperdrive);
  // under run-tests the tester asks it instead.
  const testManifest = join(dir, 'test', 'echo-test', 'pkg', 'manifest.json');
  const entries = JSON.parse(readFileSync(testManifest, 'utf8')) as Array<{ request_capabilities: unknown[] }>;
  if (!entries[0].request_capabilities.includes('http-server:distro:sys')) {
    entries[0].request_capabilities.push('http-server:distro:sys');
    writeFileSync(testManifest, `${JSON.stringify(entries, null, 4)}\n`);
  }
  const template = readFileSync(join(dir, 'test', 'tests.toml'), 'utf8').replace(/^(port|fakechain_router) = \d+$/gm, '$1 = PORT');
  const config = join(dir, 'test', 'bench.toml');
  const retarget = async () => {
    const node = await freePort();
    const chain = await freePort();
    let i = 0;
    writeFileSync(config, template.replace(/PORT/g, () => String(i++ === 0 ? node : chain)));
    return { node, chain };
  };

  // Warm-up: builds both packages (components come from the cache when this path built them before).
  await retarget();
  const warm = await kit(ctx.repo, ['run-tests', config], dir);
  if (warm.code !== 0) throw new Error(`kit run-tests failed:\n${warm.out}`);

  const runTests: number[] = [];
  const byHand: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    await retarget();
    let t = performance.now();
    const r = await kit(ctx.repo, ['run-tests', config], dir);
    if (r.code !== 0) throw new Error(`kit run-tests failed:\n${r.out}`);
    runTests.push(performance.now() - t);

    const { node, chain } = await retarget();
    const home = join(work, 'home-by-hand');
    rmSync(home, { recursive: true, force: true });
    t = performance.now();
    const anvil = background(ctx.repo, ['chain', '-p', String(chain)], dir);
    const fake = background(ctx.repo, ['boot-fake-node', '--detached', '-p', String(node), '-o', home, '-c', String(chain), '-f', 'first.os'], dir);
    try {
      await until(async () => (await fetch(`http://localhost:${node}/our`)).ok, 'the node');
      for (const pkg of [dir, join(dir, 'test', 'echo-test')]) {
        const s = await kit(ctx.repo, ['start-package', pkg, '-p', String(node)], dir);
        if (s.code !== 0) throw new Error(`start-package ${pkg} failed: ${s.out}`);
      }
      const body = JSON.stringify({ Run: { input_node_names: ['first.os'], test_names: ['echo-test'], test_timeout: 15 } });
      const inj = await kit(ctx.repo, ['inject-message', 'echo-test:echo-test:template.os', body, '-p', String(node)], dir);
      if (inj.code !== 0 || !inj.out.includes('"Ok"')) throw new Error(`the test did not pass by hand: ${inj.out}`);
    } finally {
      await stop(fake);
      await stop(anvil);
    }
    byHand.push(performance.now() - t);
  }
  rmSync(config, { force: true });
  const runMs = median(runTests);
  const handMs = median(byHand);
  ctx.add({
    name: 'run_tests_by_hand_ms',
    value: handMs,
    unit: 'ms',
    note: `kit chain + boot-fake-node + 2 start-package + inject-message Run + stop, median of ${RUNS}`,
  });
  ctx.add({ name: 'run_tests_echo_ms', value: runMs, unit: 'ms', note: `kit run-tests on the echo template's tests, built; median of ${RUNS}` });
  const ratio = runMs / handMs;
  ctx.add({ name: 'run_tests_overhead_ratio', value: ratio, unit: 'x', goal: '<= 1.2', met: ratio <= 1.2 });
}
