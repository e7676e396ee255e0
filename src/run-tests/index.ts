// `kit run-tests` as one call: find and check tests.toml, pick the runtime, run (only the last
// failures with --rerun), report (human, --json, --junit) and remember failures. Signals stop
// every node, chain and script the run started before the command exits.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { KitError } from '../cli/errors.js';
import { loadConfig, locateConfig, type TestsConfig } from './config.js';
import { counts, createReporter, jsonReport, junitReport, loadRerun, type OutputStream, saveRerun, summary } from './report.js';
import { chooseRuntime } from './runtime.js';
import { type RunResult, runTests, takenPorts } from './runner.js';

export { loadConfig, locateConfig, parseConfig, TestsConfigError } from './config.js';
export { chooseRuntime } from './runtime.js';
export { type RunResult, runTests } from './runner.js';

export interface RunTestsCliOptions {
  path?: string;
  cwd?: string;
  /** Print the JSON report on stdout (progress goes to stderr). */
  json?: boolean;
  /** Write JUnit XML here. */
  junit?: string;
  /** Run only what failed (or did not run) last time. */
  rerun?: boolean;
  stdout?: OutputStream;
  stderr?: OutputStream;
  signal?: AbortSignal;
  kitCommand?: string[];
  /** Build with componentize-js instead of development builds (`--release`). */
  release?: boolean;
}

/** Runs everything; resolves with the exit status (0 only when every test passed). */
export async function runTestsCli(opts: RunTestsCliOptions): Promise<{ code: number; result?: RunResult; config: TestsConfig }> {
  const stdout = opts.stdout ?? process.stdout;
  const stderr = opts.stderr ?? process.stderr;
  const file = locateConfig(opts.path, opts.cwd);
  const config = loadConfig(file);
  const human = opts.json ? stderr : stdout;
  for (const n of config.notes) human.write(`note: ${n}\n`);

  let only: Map<number, string[]> | undefined;
  if (opts.rerun) {
    only = loadRerun(file);
    if (!only) human.write('--rerun: no earlier run of this tests.toml is remembered; running every test\n');
    else if (only.size === 0) {
      human.write('--rerun: the last run passed; nothing to rerun\n0 passed, 0 failed\n');
      return { code: 0, config };
    } else {
      const list = [...only].map(([i, names]) => `tests[${i}]: ${names.join(', ') || '(setup)'}`).join('; ');
      human.write(`--rerun: running only what failed or did not run last time: ${list}\n`);
    }
  }

  // Nothing is built for a run whose ports are taken (each test checks its own again before its build).
  for (let i = 0; i < config.tests.length; i++) {
    if (only && !only.has(i)) continue;
    const taken = await takenPorts(config, i);
    if (taken) throw new KitError(taken, { hint: 'kit run-tests starts its own nodes (and a chain, unless one answers on fakechain_router)' });
  }
  const runtime = await chooseRuntime(config.runtime, config.runtime_build_release, (t) => human.write(`${t}\n`));
  human.write(`${runtime.note}\n`);

  const reporter = createReporter(human);
  let result: RunResult;
  try {
    result = await runTests({
      config,
      events: reporter,
      only,
      signal: opts.signal,
      kitCommand: opts.kitCommand,
      runtimeBinary: runtime.kind === 'real' ? runtime.binary : undefined,
      release: opts.release,
    });
  } finally {
    reporter.close();
  }
  saveRerun(file, result, only);
  human.write(`${summary(result)}\n`);
  if (opts.json) stdout.write(`${JSON.stringify(jsonReport(result, file), null, 2)}\n`);
  if (opts.junit) {
    const out = resolve(opts.cwd ?? process.cwd(), opts.junit);
    try {
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, junitReport(result, file));
    } catch (e) {
      throw new KitError(`could not write the JUnit report to ${out}: ${(e as Error).message}`);
    }
  }
  const c = counts(result);
  const code = result.aborted ? 130 : c.failed === 0 ? 0 : 1;
  return { code, result, config };
}
