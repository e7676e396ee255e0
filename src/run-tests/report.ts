// What kit run-tests shows: while running, the current step (which test, node, package) as a
// spinner on a terminal or one plain line per step elsewhere; at the end each test package with
// pass/fail and time, failures with reason and location, and `N passed, N failed` on its own
// line. Also the --json report, the --junit XML and the remembered failures for --rerun.

import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { KIT_CACHE } from '../core/cache.js';
import type { PackageResult, RunEvents, RunResult, TestResult } from './runner.js';

export interface OutputStream {
  write(s: string): unknown;
  isTTY?: boolean;
}

export interface Counts {
  passed: number;
  failed: number;
  notRun: number;
}

/** Test packages passed and failed; a test that failed outside its packages counts as one failure. */
export function counts(run: RunResult): Counts {
  const c: Counts = { passed: 0, failed: 0, notRun: 0 };
  for (const t of run.tests) {
    for (const p of t.packages) {
      if (p.status === 'passed') c.passed++;
      else if (p.status === 'failed') c.failed++;
      else c.notRun++;
    }
    if (t.status === 'failed' && !t.packages.some((p) => p.status === 'failed')) c.failed++;
  }
  return c;
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function where(p: PackageResult): string {
  const f = p.failure;
  return f?.file ? ` at ${f.file}:${f.line}:${f.column}` : '';
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** Live progress: a redrawn spinner line on a TTY, else one line per step. */
export function createReporter(out: OutputStream, opts: { tty?: boolean; showNodeOutput?: boolean } = {}): RunEvents & { close(): void } {
  const tty = opts.tty ?? out.isTTY === true;
  let current = '';
  let frame = 0;
  let timer: NodeJS.Timeout | undefined;
  const draw = () => {
    if (!tty || current === '') return;
    out.write(`\r\x1b[2K${FRAMES[frame++ % FRAMES.length]} ${current}`);
  };
  const clear = () => {
    if (tty && current !== '') out.write('\r\x1b[2K');
  };
  const line = (s: string) => {
    clear();
    out.write(`${s}\n`);
    draw();
  };
  if (tty) {
    timer = setInterval(draw, 80);
    timer.unref();
  }
  return {
    step(test, text) {
      current = `tests[${test}]: ${text}`;
      if (tty) draw();
      else out.write(`${current}\n`);
    },
    packageDone(test, p) {
      const mark = p.status === 'passed' ? 'PASS' : 'FAIL';
      line(`${mark} tests[${test}] ${p.name} (${seconds(p.ms)})${p.status === 'failed' ? `${where(p)}: ${p.failure?.reason}` : ''}`);
    },
    testDone(t) {
      if (t.status === 'failed' && !t.packages.some((p) => p.status === 'failed')) line(`FAIL tests[${t.index}]: ${t.failure?.reason}`);
      if (t.nodeOutput && (opts.showNodeOutput ?? true)) {
        for (const n of t.nodeOutput) line(`--- output of ${n.name} (tests[${t.index}]) ---\n${n.output.trimEnd()}\n--- end of ${n.name} ---`);
      }
    },
    note(text) {
      line(text);
    },
    close() {
      if (timer) clearInterval(timer);
      clear();
      current = '';
    },
  };
}

/** The closing summary: every test package with its result and time, then `N passed, N failed`. */
export function summary(run: RunResult): string {
  const lines: string[] = ['', 'Summary:'];
  for (const t of run.tests) {
    lines.push(`tests[${t.index}] (${seconds(t.ms)})${t.status === 'failed' && t.failure ? `: FAILED: ${t.failure.reason}` : ''}`);
    for (const p of t.packages) {
      const mark = p.status === 'passed' ? 'PASS' : p.status === 'failed' ? 'FAIL' : 'not run';
      const time = p.status === 'not run' ? '' : ` (${seconds(p.ms)})`;
      lines.push(`  ${mark} ${p.name}${time}${p.status === 'failed' ? `${where(p)}: ${p.failure?.reason}` : ''}`);
    }
  }
  const c = counts(run);
  if (run.aborted) lines.push(`stopped by ${run.aborted}`);
  if (c.notRun > 0) lines.push(`${c.notRun} not run (an earlier failure stops the run)`);
  lines.push(`${c.passed} passed, ${c.failed} failed`);
  return lines.join('\n');
}

export function jsonReport(run: RunResult, file: string): unknown {
  const c = counts(run);
  return {
    config: file,
    ok: c.failed === 0 && !run.aborted,
    passed: c.passed,
    failed: c.failed,
    not_run: c.notRun,
    ms: Math.round(run.ms),
    aborted: run.aborted ?? null,
    tests: run.tests.map((t) => ({
      index: t.index,
      status: t.status,
      ms: Math.round(t.ms),
      failure: t.failure ?? null,
      packages: t.packages.map((p) => ({ name: p.name, path: p.path, status: p.status, ms: Math.round(p.ms), failure: p.failure ?? null })),
    })),
  };
}

function xml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] as string);
}

/** JUnit XML: one testsuite per [[tests]], one testcase per test package (plus one for a setup failure). */
export function junitReport(run: RunResult, file: string): string {
  const c = counts(run);
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="kit run-tests" tests="${c.passed + c.failed + c.notRun}" failures="${c.failed}" skipped="${c.notRun}" time="${(run.ms / 1000).toFixed(3)}">`,
  ];
  for (const t of run.tests) {
    const setupFailed = t.status === 'failed' && !t.packages.some((p) => p.status === 'failed');
    const n = t.packages.length + (setupFailed ? 1 : 0);
    const failures = t.packages.filter((p) => p.status === 'failed').length + (setupFailed ? 1 : 0);
    const skipped = t.packages.filter((p) => p.status === 'not run').length;
    out.push(
      `  <testsuite name="tests[${t.index}]" file="${xml(file)}" tests="${n}" failures="${failures}" skipped="${skipped}" time="${(t.ms / 1000).toFixed(3)}">`,
    );
    if (setupFailed) {
      out.push(`    <testcase classname="tests[${t.index}]" name="setup" time="0">`);
      out.push(`      <failure message="${xml(t.failure?.reason ?? 'failed')}"/>`);
      out.push('    </testcase>');
    }
    for (const p of t.packages) {
      const at = p.failure?.file ? ` file="${xml(p.failure.file)}" line="${p.failure.line}"` : '';
      out.push(`    <testcase classname="tests[${t.index}]" name="${xml(p.name)}"${at} time="${(p.ms / 1000).toFixed(3)}">`);
      if (p.status === 'failed') {
        const loc = p.failure?.file ? `${p.failure.file}:${p.failure.line}:${p.failure.column}` : '';
        out.push(`      <failure message="${xml(p.failure?.reason ?? 'failed')}" type="FAIL">${xml(loc)}</failure>`);
      } else if (p.status === 'not run') out.push('      <skipped message="an earlier failure stopped the run"/>');
      out.push('    </testcase>');
    }
    if (t.nodeOutput) {
      out.push(`    <system-out>${xml(t.nodeOutput.map((o) => `--- ${o.name} ---\n${o.output}`).join('\n'))}</system-out>`);
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return `${out.join('\n')}\n`;
}

// ---- --rerun ------------------------------------------------------------------------------

interface RerunState {
  config: string;
  /** [[tests]] index -> test package names that failed or did not run. */
  pending: Record<string, string[]>;
}

/** Where the failures of a tests.toml are remembered: $KIT_CACHE/run-tests/<hash of its path>.json. */
export function rerunFile(configFile: string): string {
  const key = createHash('sha256').update(configFile).digest('hex').slice(0, 16);
  return join(KIT_CACHE, 'run-tests', `${key}.json`);
}

/** Remember what failed or did not run (nothing, after a full pass). */
export function saveRerun(configFile: string, run: RunResult, previous?: Map<number, string[]>): void {
  const pending: Record<string, string[]> = {};
  for (const t of run.tests) {
    const names = t.packages.filter((p) => p.status !== 'passed').map((p) => p.name);
    // A test that failed before any package ran (setup, boot) must run again as a whole.
    if (t.status === 'failed' && names.length === 0) names.push(...t.packages.map((p) => p.name));
    if (names.length > 0 || (t.status === 'failed' && t.packages.length === 0)) pending[String(t.index)] = names;
  }
  // A --rerun that passed clears only what it ran; tests it did not run keep their state.
  if (previous) {
    const old = loadRerun(configFile);
    if (old) for (const [k, v] of old) if (!previous.has(k)) pending[String(k)] = v;
  }
  const file = rerunFile(configFile);
  mkdirSync(dirname(file), { recursive: true });
  const state: RerunState = { config: configFile, pending };
  writeFileSync(`${file}.tmp`, JSON.stringify(state, null, 1));
  renameSync(`${file}.tmp`, file);
}

/** What the last run left failed, or undefined when there is no record. */
export function loadRerun(configFile: string): Map<number, string[]> | undefined {
  try {
    const state = JSON.parse(readFileSync(rerunFile(configFile), 'utf8')) as RerunState;
    if (state.config !== configFile) return undefined;
    return new Map(Object.entries(state.pending).map(([k, v]) => [Number(k), v]));
  } catch {
    return undefined;
  }
}

export type { TestResult };
