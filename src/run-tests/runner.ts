// The run-tests flow (interop §7.3, book: `kit run-tests`): for each [[tests]] in order, build its
// packages, start its setup scripts, a fresh fake chain and fresh nodes (each `kit boot-fake-node`
// in its own OS process, as the real kit runs Hyperdrive binaries), install the setup packages,
// load the test packages into the master's tester, run them one by one, then the test scripts.
// The first failure stops the run. Everything started is stopped again: after a pass, a failure,
// a timeout, or an abort (Ctrl-C / SIGTERM).

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildPackage } from '../build/build.js';
import { DevBuilder } from '../build/dev/index.js';
import { type Chain, chainUrl, probeChain, startChain } from '../chain/index.js';
import { KitError } from '../cli/errors.js';
import { makeMessage, sendMessage } from '../node-client/rpc.js';
import { fakeNodeArgs } from '../real-runtime/index.js';
import { startPackage } from '../package/start.js';
import { createLogger, type Logger } from '../core/log.js';
import { nodeName, type TestConfig, type TestsConfig, testName } from './config.js';

/** The repository root (this file is dist/src/run-tests/runner.js). */
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export interface Failure {
  /** Why, in words (the test's own message when it printed one). */
  reason: string;
  file?: string;
  line?: number;
  column?: number;
}

export interface PackageResult {
  /** The tester's name: the basename of the path. */
  name: string;
  /** As written in test_package_paths. */
  path: string;
  status: 'passed' | 'failed' | 'not run';
  ms: number;
  failure?: Failure;
}

export interface TestResult {
  /** Index in the file's [[tests]]. */
  index: number;
  status: 'passed' | 'failed' | 'not run';
  /** A failure outside any test package (build, boot, setup or test script, ...). */
  failure?: Failure;
  packages: PackageResult[];
  ms: number;
  /** Each node's output, kept when the test failed or always_print_node_output. */
  nodeOutput?: Array<{ name: string; output: string }>;
}

export interface RunResult {
  tests: TestResult[];
  ms: number;
  /** Set when the run was stopped by a signal. */
  aborted?: string;
}

/** What the runner tells its reporter as it goes. */
export interface RunEvents {
  step(test: number, text: string): void;
  packageDone(test: number, result: PackageResult): void;
  testDone(result: TestResult): void;
  note(text: string): void;
}

export interface RunOptions {
  config: TestsConfig;
  events: RunEvents;
  /** Only these test packages (by name) of these tests (by index): `--rerun`. */
  only?: Map<number, string[]>;
  /** Aborting stops everything started and ends the run. */
  signal?: AbortSignal;
  /** How to run kit for the nodes; default: this kit's bin/run.js with this Node. */
  kitCommand?: string[];
  /** A runtime binary (tests.toml RepoPath) to run every node with Hyperdrive's command line; default: kit's embedded node. */
  runtimeBinary?: string;
  logger?: Logger;
  /**
   * Build with componentize-js (`kit build`) instead of development builds (`kit build --dev`):
   * both are complete components with the same code and imports (see build/dev/), these take
   * seconds longer per process.
   */
  release?: boolean;
}

class TestFailed extends Error {
  constructor(readonly failure: Failure) {
    super(failure.reason);
  }
}

class Aborted extends Error {}

/** Everything a test started, stopped in reverse order by cleanup(). */
class Resources {
  readonly nodes: NodeProc[] = [];
  readonly scripts: ChildProcess[] = [];
  chain?: Chain;
  homes: string[] = [];

  /** `interrupted`: the signal that stopped the run, if one did. */
  async cleanup(persist: boolean, interrupted?: unknown): Promise<void> {
    // A Ctrl-C at the terminal reaches the whole foreground group, the nodes included: they are
    // already stopping, and a second SIGINT from here would read to them as "stop at once".
    const grace = interrupted === 'SIGINT' ? NODE_OWN_STOP_MS : 0;
    await Promise.all(this.nodes.map((n) => n.stop(grace)));
    await Promise.all(this.scripts.map((s) => stopGroup(s, 'SIGINT')));
    await this.chain?.stop().catch(() => {});
    this.chain = undefined;
    if (!persist) for (const h of this.homes) rmSync(h, { recursive: true, force: true });
  }
}

/** How long a node that got the terminal's Ctrl-C itself is given to stop before kit signals it. */
const NODE_OWN_STOP_MS = 5000;

/** A fake node in its own OS process. */
export class NodeProc {
  output = '';
  exited = false;
  private readonly exit: Promise<void>;
  constructor(
    readonly name: string,
    readonly port: number,
    readonly child: ChildProcess,
  ) {
    child.stdout?.on('data', (d) => {
      this.output += d;
    });
    child.stderr?.on('data', (d) => {
      this.output += d;
    });
    this.exit = new Promise((r) =>
      child.once('exit', () => {
        this.exited = true;
        r();
      }),
    );
  }

  get url(): string {
    return `http://localhost:${this.port}`;
  }

  /** SIGINT (then SIGKILL); after `graceMs` first when the node may be stopping on its own. */
  async stop(graceMs = 0): Promise<void> {
    if (this.exited) return;
    if (graceMs > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.exit, new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
      clearTimeout(timer);
      if (this.exited) return;
    }
    this.child.kill('SIGINT');
    const t = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exit;
    clearTimeout(t);
  }
}

/** SIGINT a whole process group (bash -c and what it started), SIGKILL if it lingers. */
async function stopGroup(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const done = new Promise<void>((r) => child.once('exit', () => r()));
  const kill = (s: NodeJS.Signals) => {
    try {
      process.kill(-(child.pid as number), s);
    } catch {
      // already gone
    }
  };
  kill(signal);
  const t = setTimeout(() => kill('SIGKILL'), 3000);
  await done;
  clearTimeout(t);
}

export async function runTests(opts: RunOptions): Promise<RunResult> {
  // One development builder for the whole run: the engine is compiled once for every package.
  const devBuilder = opts.release ? undefined : new DevBuilder();
  try {
    return await runAll(opts, devBuilder);
  } finally {
    await devBuilder?.close();
  }
}

async function runAll(opts: RunOptions, devBuilder: DevBuilder | undefined): Promise<RunResult> {
  const started = performance.now();
  const { config, events } = opts;
  const results: TestResult[] = [];
  let failedAlready = false;
  let aborted: string | undefined;
  for (let i = 0; i < config.tests.length; i++) {
    const only = opts.only?.get(i);
    if (opts.only && !only) continue;
    const test = config.tests[i];
    const names = only ? test.test_package_paths.filter((p) => only.includes(testName(p))) : test.test_package_paths;
    if (failedAlready || aborted) {
      results.push(notRun(i, names));
      continue;
    }
    const r = await runOne(opts, i, { ...test, test_package_paths: names }, devBuilder);
    results.push(r);
    events.testDone(r);
    if (r.status === 'failed') failedAlready = true;
    if (opts.signal?.aborted) aborted = String(opts.signal.reason ?? 'aborted');
  }
  return { tests: results, ms: performance.now() - started, aborted };
}

function notRun(index: number, paths: string[]): TestResult {
  return {
    index,
    status: 'not run',
    packages: paths.map((p) => ({ name: testName(p), path: p, status: 'not run', ms: 0 })),
    ms: 0,
  };
}

async function runOne(opts: RunOptions, index: number, test: TestConfig, devBuilder: DevBuilder | undefined): Promise<TestResult> {
  const { config, events } = opts;
  const t0 = performance.now();
  const res = new Resources();
  const packages: PackageResult[] = test.test_package_paths.map((p) => ({ name: testName(p), path: p, status: 'not run', ms: 0 }));
  const result: TestResult = { index, status: 'failed', packages, ms: 0 };
  const onAbort = () => {
    void res.cleanup(config.persist_home);
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  // Set once the test is over: a boot still running in the background stops at its next step.
  let over = false;
  const check = () => {
    if (opts.signal?.aborted) throw new Aborted(String(opts.signal.reason ?? 'aborted'));
    if (over) throw new Aborted('the test is over');
  };
  let booting: Promise<void> | undefined;
  try {
    check();
    const testPaths = test.test_package_paths.map((p) => resolvePackage(config, index, 'test_package_paths', p));
    const depPaths = test.dependency_package_paths.map((p) => resolvePackage(config, index, 'dependency_package_paths', p));
    for (const s of test.setup_packages) resolvePackage(config, index, 'setup_packages', s.path);

    // 1. Ports: every node's port must be free (and the chain's free or a chain) before anything is built.
    const taken = await takenPorts(config, index);
    if (taken) throw new TestFailed({ reason: taken });

    const boot = async (): Promise<void> => {
      // 4. A fresh fake chain (an existing one on that port is used, as the real kit does).
      events.step(index, `fake chain on port ${test.fakechain_router}`);
      try {
        res.chain = await startChain({ port: test.fakechain_router });
      } catch (e) {
        throw new TestFailed({ reason: `could not start the fake chain on port ${test.fakechain_router} (fakechain_router): ${errorText(e)}` });
      }
      check();

      // 5. Fresh nodes, in order; the first is the master.
      for (const n of test.nodes) {
        check();
        setupCheck?.();
        const name = nodeName(n);
        events.step(index, `booting ${name} on port ${n.port}`);
        res.homes.push(n.home);
        if (!config.persist_home) rmSync(n.home, { recursive: true, force: true });
        if (opts.runtimeBinary) {
          // The real kit's command line for a runtime (kit src/run_tests/mod.rs), plus --detached:
          // without a pty to write Ctrl-C into, the node gets no terminal and is stopped by SIGINT.
          const args = fakeNodeArgs({
            home: n.home,
            port: n.port,
            verbosity: n.runtime_verbosity,
            rpc: n.rpc,
            password: n.password,
            name,
            fakechainPort: test.fakechain_router,
          });
          mkdirSync(n.home, { recursive: true });
          const child = spawn(opts.runtimeBinary, [...args, '--detached'], { cwd: config.testDir, stdio: ['ignore', 'pipe', 'pipe'] });
          const node = new NodeProc(name, n.port, child);
          res.nodes.push(node);
          await waitUntilBooted(node, opts.signal);
          continue;
        }
        const args = [
          'boot-fake-node',
          '--detached',
          '-p',
          String(n.port),
          '-o',
          n.home,
          '-f',
          name,
          '-c',
          String(test.fakechain_router),
          '--verbosity',
          String(Math.min(n.runtime_verbosity, 3)),
        ];
        if (n.password !== undefined) args.push('--password', n.password);
        if (n.rpc !== undefined) args.push('--rpc', n.rpc);
        if (config.persist_home) args.push('--persist');
        const [cmd, ...pre] = opts.kitCommand ?? [process.execPath, join(REPO, 'bin/run.js')];
        const child = spawn(cmd, [...pre, ...args], { cwd: config.testDir, stdio: ['ignore', 'pipe', 'pipe'] });
        const node = new NodeProc(name, n.port, child);
        res.nodes.push(node);
        await waitUntilBooted(node, opts.signal);
      }
    };
    // Without setup scripts (which start before the chain and nodes), the chain and nodes boot
    // while the packages build: they need nothing from the build, and each takes seconds.
    let setupCheck: (() => void) | undefined;
    if (test.setup_scripts.length === 0) {
      booting = boot();
      booting.catch(() => undefined); // awaited after the build; a build failure stops them anyway
    }

    // 2. Build: dependencies first (their APIs are local dependencies of the rest), then setup
    //    and test packages. Up-to-date packages cost a hash check each.
    const log = opts.logger ?? createLogger({ target: 'kit::run-tests', terminal: null });
    const toBuild = [...new Set([...depPaths, ...test.setup_packages.map((s) => s.path), ...testPaths])];
    for (const dir of toBuild) {
      check();
      events.step(index, `building ${shortPath(config, dir)}`);
      try {
        await buildPackage({
          dir,
          localDependencies: depPaths.filter((d) => d !== dir),
          // As the real kit: no features means "test" (templates answer the tester's Caps only then).
          features: test.features.length > 0 ? test.features.join(',') : 'test',
          skipDepsCheck: false,
          dev: devBuilder !== undefined,
          devBuilder,
          progress: null,
          logger: log.child('build'),
        });
      } catch (e) {
        throw new TestFailed({ reason: `building ${shortPath(config, dir)} failed: ${errorText(e)}` });
      }
    }

    // 3. Setup scripts run alongside the test, in the background.
    let setupFailure: Failure | undefined;
    for (const line of test.setup_scripts) {
      check();
      events.step(index, `setup script: ${line}`);
      const child = spawn('bash', ['-c', resolveScript(config.testDir, line)], {
        cwd: config.testDir,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout?.on('data', (d) => {
        out += d;
      });
      child.stderr?.on('data', (d) => {
        out += d;
      });
      res.scripts.push(child);
      child.once('exit', (code) => {
        if (code !== 0 && code !== null) setupFailure ??= { reason: `setup script \`${line}\` exited with status ${code}${tail(out)}` };
      });
    }
    setupCheck = () => {
      if (setupFailure) throw new TestFailed(setupFailure);
    };

    // 4-5. The chain and the nodes, unless they are already booting (see above).
    await (booting ?? boot());
    const master = res.nodes[0];

    // 6. Setup packages: installed on every node (started if `run`), their wasm in tester:sys/setup.
    for (const node of res.nodes) {
      for (const s of test.setup_packages) {
        check();
        setupCheck();
        if (s.run) {
          events.step(index, `installing ${shortPath(config, s.path)} on ${node.name}`);
          try {
            await startPackage({ packageDir: s.path, url: node.url });
          } catch (e) {
            throw new TestFailed({ reason: `installing setup package ${shortPath(config, s.path)} on ${node.name} failed: ${errorText(e)}` });
          }
        }
        for (const w of wasmFiles(s.path)) await vfsWrite(node, `/tester:sys/setup/${basename(w)}`, readFileSync(w));
      }
    }

    // 7. Test packages: their wasm and capabilities.json into the master's tester:sys/tests.
    events.step(index, `loading ${testPaths.length} test package(s) on ${master.name}`);
    const caps: Record<string, { request_capabilities: string[]; grant_capabilities: string[] }> = {};
    for (const [k, dir] of testPaths.entries()) {
      const name = packages[k].name;
      const wasms = wasmFiles(dir);
      for (const w of wasms) await vfsWrite(master, `/tester:sys/tests/${basename(w)}`, readFileSync(w));
      // The tester spawns `<name>.wasm`: a one-process package whose file is named otherwise is
      // loaded under the package folder's name too.
      if (wasms.length === 1 && basename(wasms[0]) !== `${name}.wasm`)
        await vfsWrite(master, `/tester:sys/tests/${name}.wasm`, readFileSync(wasms[0]));
      caps[name] = manifestCaps(dir);
    }
    await vfsWrite(master, '/tester:sys/tests/capabilities.json', new TextEncoder().encode(JSON.stringify(caps)));

    // 8. Run: other nodes first (they answer at once), then each test package on the master.
    const nodeNames = res.nodes.map((n) => n.name);
    for (const node of res.nodes.slice(1)) {
      const body = { Run: { input_node_names: nodeNames, test_names: test.test_package_paths, test_timeout: test.timeout_secs } };
      await askTester(node, body, 15);
    }
    let testFailure: TestFailed | undefined;
    try {
      for (const p of packages) {
        check();
        setupCheck();
        events.step(index, `running ${p.name} on ${master.name}`);
        const s = performance.now();
        const body = { Run: { input_node_names: nodeNames, test_names: [p.name], test_timeout: test.timeout_secs } };
        const answer = await askTester(master, body, test.timeout_secs + 30);
        p.ms = performance.now() - s;
        const fail = answer.Run && 'Err' in answer.Run ? answer.Run.Err : undefined;
        if (fail) {
          p.status = 'failed';
          p.failure = describeFail(fail, master.output, test.timeout_secs);
          events.packageDone(index, p);
          throw new TestFailed(p.failure);
        }
        if (!answer.Run || !('Ok' in answer.Run)) throw new TestFailed({ reason: `the tester answered ${JSON.stringify(answer).slice(0, 300)}` });
        p.status = 'passed';
        events.packageDone(index, p);
      }
    } catch (e) {
      if (!(e instanceof TestFailed)) throw e;
      testFailure = e;
    }

    // 9. Test scripts: after the tests, in order, even after a failed test (as the real kit: they
    //    may collect logs or clean up); each must exit 0. A test's failure is reported first.
    for (const line of test.test_scripts) {
      check();
      events.step(index, `test script: ${line}`);
      const r = await runScript(resolveScript(config.testDir, line), config.testDir, res);
      if (r.code === 0) continue;
      const why = `test script \`${line}\` exited with status ${r.code}${tail(r.output)}`;
      if (!testFailure) throw new TestFailed({ reason: why });
      events.note(`tests[${index}]: after the failed test, ${why}`);
    }
    if (testFailure) throw testFailure;
    setupCheck();
    result.status = 'passed';
  } catch (e) {
    // Once aborted, whatever failed next failed because everything is being stopped.
    if (opts.signal?.aborted) result.failure = { reason: `stopped by ${String(opts.signal.reason ?? 'a signal')}` };
    else if (e instanceof TestFailed) result.failure = e.failure;
    else if (e instanceof Aborted) result.failure = { reason: `stopped (${e.message})` };
    else result.failure = { reason: errorText(e) };
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    if (result.status === 'failed' || config.always_print_node_output)
      result.nodeOutput = res.nodes.map((n) => ({ name: n.name, output: collapse(n.output) }));
    over = true;
    await booting?.catch(() => undefined); // so that cleanup sees every node it started
    events.step(index, 'stopping nodes and chain');
    await res.cleanup(config.persist_home, opts.signal?.aborted ? opts.signal.reason : undefined);
    result.ms = performance.now() - t0;
  }
  return result;
}

/** A path of the config that must be a folder: absolute, or an error naming the key. */
function resolvePackage(config: TestsConfig, index: number, key: string, p: string): string {
  const abs = resolve(config.testDir, p);
  if (!existsSync(abs) || !statSync(abs).isDirectory())
    throw new TestFailed({ reason: `${key} of tests[${index}] names ${p}, but ${abs} does not exist (paths are relative to ${config.testDir})` });
  return abs;
}

function shortPath(config: TestsConfig, p: string): string {
  return relative(config.testDir, p) || '.';
}

/** As the real kit: each word that names a file in the test folder becomes its absolute path. */
export function resolveScript(testDir: string, line: string): string {
  return line
    .split(/\s+/)
    .filter((w) => w !== '')
    .map((w) => (existsSync(join(testDir, w)) ? resolve(testDir, w) : w))
    .join(' ');
}

function runScript(line: string, cwd: string, res: Resources): Promise<{ code: number | null; output: string }> {
  return new Promise((r) => {
    const child = spawn('bash', ['-c', line], { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    res.scripts.push(child);
    let output = '';
    child.stdout?.on('data', (d) => {
      output += d;
    });
    child.stderr?.on('data', (d) => {
      output += d;
    });
    child.once('error', (e) => r({ code: 127, output: e.message }));
    child.once('close', (code) => r({ code, output }));
  });
}

/** Why the ports of tests[index] cannot be used, or undefined when they can. */
export async function takenPorts(config: TestsConfig, index: number): Promise<string | undefined> {
  const test = config.tests[index];
  for (const [j, n] of test.nodes.entries()) {
    if (!(await portFree(n.port)))
      return `port ${n.port} (tests[${index}].nodes[${j}].port, ${nodeName(n)}) is already in use by something else: stop it or pick another port in ${basename(config.file)}`;
  }
  const chain = test.fakechain_router;
  if (!(await portFree(chain)) && (await probeChain(chainUrl(chain))) === undefined)
    return `port ${chain} (tests[${index}].fakechain_router) is in use by something that is not a chain: stop it or pick another port in ${basename(config.file)}`;
  return undefined;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((r) => {
    const s = createServer();
    s.once('error', () => r(false));
    s.listen({ port }, () => s.close(() => r(true)));
  });
}

/**
 * The node answers RPC and its tester's drives are ready for kit: the tester has made them and
 * given the RPC (http-server) write on them, as Hyperdrive's does (write only, so a ReadDir would
 * answer NoReadCap): a CreateDirAll of tester:sys/tests, which changes nothing, answers Ok.
 */
async function waitUntilBooted(node: NodeProc, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (signal?.aborted) throw new Aborted(String(signal.reason ?? 'aborted'));
    if (node.exited) {
      const why = /in use/i.test(node.output)
        ? `port ${node.port} is already in use by something else`
        : `it exited during boot:\n${collapse(node.output).trim().split('\n').slice(-15).join('\n')}`;
      throw new TestFailed({ reason: `could not boot ${node.name}: ${why}` });
    }
    try {
      const msg = makeMessage({ process: 'vfs:distro:sys', body: JSON.stringify({ path: '/tester:sys/tests', action: 'CreateDirAll' }) });
      const r = await sendMessage(node.url, msg, { timeoutMs: 15_000 });
      if (r && JSON.parse(r.body) === 'Ok') return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new TestFailed({ reason: `kit run-tests: could not connect to node ${node.name} on port ${node.port}` });
}

async function vfsWrite(node: NodeProc, path: string, bytes: Uint8Array): Promise<void> {
  const msg = makeMessage({ process: 'vfs:distro:sys', body: JSON.stringify({ path, action: 'Write' }), blob: bytes });
  let body: string;
  try {
    body = (await sendMessage(node.url, msg))?.body ?? '';
  } catch (e) {
    throw new TestFailed({ reason: `Failed to load ${path} on ${node.name}: ${errorText(e)}` });
  }
  if (body.includes('"Err"')) throw new TestFailed({ reason: `Failed to load ${path} on ${node.name}: ${body}` });
}

type TesterAnswer = { Run?: { Ok: null } | { Err: { test: string; file: string; line: number; column: number } } };

async function askTester(node: NodeProc, body: unknown, secs: number): Promise<TesterAnswer> {
  const msg = makeMessage({ process: 'tester:tester:sys', body: JSON.stringify(body), expectsResponse: secs });
  try {
    const r = await sendMessage(node.url, msg, { timeoutMs: (secs + 30) * 1000 });
    return JSON.parse(r?.body ?? 'null') as TesterAnswer;
  } catch (e) {
    throw new TestFailed({ reason: `FAIL: ${errorText(e)}` });
  }
}

/** The Fail answer in words: the message the test printed with it, or the timeout. */
function describeFail(f: { test: string; file: string; line: number; column: number }, output: string, timeout: number): Failure {
  if (f.file === 'timeout' && f.line === 0)
    return { reason: `${f.test} did not answer within ${timeout} s (timeout_secs); it may be stuck or waiting for a message` };
  const at = `${f.file}:${f.line}:${f.column}`;
  const printed = output
    .split('\n')
    .reverse()
    .find((l) => l.includes(`FAIL ${f.test} ${at}`));
  const reason = printed ? printed.slice(printed.indexOf(at) + at.length).replace(/^:\s*/, '') : `FAIL: ${f.test} ${at}`;
  return { reason: reason || `FAIL: ${f.test} ${at}`, file: f.file, line: f.line, column: f.column };
}

function wasmFiles(pkgDir: string): string[] {
  const dir = join(pkgDir, 'pkg');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.wasm'))
    .sort()
    .map((f) => join(dir, f));
}

/** capabilities.json entry of one test package: its single manifest entry's caps, as strings. */
function manifestCaps(dir: string): { request_capabilities: string[]; grant_capabilities: string[] } {
  const file = join(dir, 'pkg', 'manifest.json');
  let entries: Array<{ request_capabilities?: unknown[]; grant_capabilities?: unknown[] }>;
  try {
    entries = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new TestFailed({ reason: `Failed to load tests capabilities: ${file}: ${errorText(e)}` });
  }
  if (!Array.isArray(entries) || entries.length !== 1)
    throw new TestFailed({ reason: `Failed to load tests capabilities: ${file} must have exactly one process (a test package is one process)` });
  const strings = (a: unknown[] | undefined) => (a ?? []).map((c) => (typeof c === 'string' ? c : JSON.stringify(c)));
  return { request_capabilities: strings(entries[0].request_capabilities), grant_capabilities: strings(entries[0].grant_capabilities) };
}

function errorText(e: unknown): string {
  if (e instanceof KitError) return [e.message, e.details].filter(Boolean).join(': ');
  return e instanceof Error ? e.message : String(e);
}

function tail(out: string): string {
  const lines = out.trim().split('\n').filter(Boolean).slice(-10);
  return lines.length > 0 ? `; its last output:\n${lines.join('\n')}` : '';
}

function collapse(s: string): string {
  return s.replace(/\n{3,}/g, '\n\n');
}
