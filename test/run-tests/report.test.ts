// What kit run-tests prints and writes: the summary with `N passed, N failed`, plain progress lines
// off a terminal and a spinner on one, the JSON and JUnit reports, and the --rerun memory.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

const cache = mkdtempSync(join(tmpdir(), 'kit-report-cache-'));
process.env.KIT_CACHE = cache;
const { counts, createReporter, jsonReport, junitReport, loadRerun, saveRerun, summary } = await import('../../src/run-tests/report.js');
type RunResult = import('../../src/run-tests/runner.js').RunResult;

const FAILED: RunResult = {
  ms: 4200,
  tests: [
    {
      index: 0,
      status: 'failed',
      ms: 4000,
      failure: { reason: 'history: got [], expected [1]', file: 'chat-test.js', line: 12, column: 3 },
      packages: [
        { name: 'echo-test', path: 'echo-test', status: 'passed', ms: 1500 },
        {
          name: 'chat-test',
          path: 'tests/chat-test',
          status: 'failed',
          ms: 900,
          failure: { reason: 'history: got [], expected [1]', file: 'chat-test.js', line: 12, column: 3 },
        },
        { name: 'kv-test', path: 'kv-test', status: 'not run', ms: 0 },
      ],
    },
    { index: 1, status: 'not run', ms: 0, packages: [{ name: 'echo-test', path: 'echo-test', status: 'not run', ms: 0 }] },
  ],
};

const SETUP_FAILED: RunResult = {
  ms: 100,
  tests: [
    {
      index: 0,
      status: 'failed',
      ms: 100,
      failure: { reason: 'setup script `./start.sh` exited with status 3' },
      packages: [{ name: 'echo-test', path: 'echo-test', status: 'not run', ms: 0 }],
    },
  ],
};

function sink(isTTY: boolean) {
  let text = '';
  const write = (s: string) => {
    text += s;
    return true;
  };
  return { isTTY, write, text: () => text };
}

describe('run-tests reports', () => {
  after(() => rmSync(cache, { recursive: true, force: true }));

  it('summary: each package with result, time, location and reason; the last line is N passed, N failed', () => {
    const s = summary(FAILED);
    assert.match(s, /PASS echo-test \(1\.5 s\)/);
    assert.match(s, /FAIL chat-test \(0\.9 s\) at chat-test\.js:12:3: history: got \[\], expected \[1\]/);
    assert.match(s, /not run kv-test/);
    assert.match(s, /2 not run/);
    assert.equal(s.split('\n').at(-1), '1 passed, 1 failed');
    assert.deepEqual(counts(FAILED), { passed: 1, failed: 1, notRun: 2 });
  });

  it('a failure before any package ran counts as one failure, with its reason', () => {
    const s = summary(SETUP_FAILED);
    assert.match(s, /FAILED: setup script `\.\/start\.sh` exited with status 3/);
    assert.equal(s.split('\n').at(-1), '0 passed, 1 failed');
  });

  it('off a terminal: one plain line per step, no escape codes', () => {
    const out = sink(false);
    const r = createReporter(out);
    r.step(0, 'booting first.dev on port 8080');
    r.packageDone(0, FAILED.tests[0].packages[1]);
    r.testDone(SETUP_FAILED.tests[0]);
    r.close();
    assert.match(out.text(), /^tests\[0\]: booting first\.dev on port 8080\n/);
    assert.match(out.text(), /FAIL tests\[0\] chat-test \(0\.9 s\) at chat-test\.js:12:3: history/);
    assert.match(out.text(), /FAIL tests\[0\]: setup script/);
    assert.doesNotMatch(out.text(), /\x1b/);
  });

  it('on a terminal: a spinner line redrawn in place, cleared at the end', () => {
    const out = sink(true);
    const r = createReporter(out);
    r.step(0, 'running echo-test on first.dev');
    r.close();
    assert.match(out.text(), /\r\x1b\[2K. tests\[0\]: running echo-test on first\.dev/);
    assert.ok(out.text().endsWith('\r\x1b[2K'));
  });

  it('JSON: counts, statuses, failures with location', () => {
    const j = JSON.parse(JSON.stringify(jsonReport(FAILED, '/p/test/tests.toml')));
    assert.equal(j.ok, false);
    assert.equal(j.passed, 1);
    assert.equal(j.failed, 1);
    assert.equal(j.tests[0].packages[1].failure.line, 12);
    assert.equal(j.tests[1].status, 'not run');
  });

  it('JUnit: one testcase per package, failures and skips, escaped text', () => {
    const x = junitReport(FAILED, '/p/test/tests.toml');
    assert.match(x, /^<\?xml version="1\.0"/);
    assert.match(x, /<testsuites name="kit run-tests" tests="4" failures="1" skipped="2"/);
    assert.match(x, /<testcase classname="tests\[0\]" name="chat-test" file="chat-test\.js" line="12"/);
    assert.match(x, /<failure message="history: got \[\], expected \[1\]" type="FAIL">chat-test\.js:12:3<\/failure>/);
    assert.match(x, /<skipped /);
    const y = junitReport(SETUP_FAILED, 'a&b.toml');
    assert.match(y, /file="a&amp;b\.toml"/);
    assert.match(y, /name="setup"[\s\S]*<failure message="setup script `\.\/start\.sh` exited with status 3"/);
  });

  it('--rerun remembers what failed or did not run, and a passing rerun clears only what it ran', () => {
    const file = '/p/test/tests.toml';
    assert.equal(loadRerun(file), undefined);
    saveRerun(file, FAILED);
    assert.deepEqual([...(loadRerun(file) ?? [])], [
      [0, ['chat-test', 'kv-test']],
      [1, ['echo-test']],
    ]);
    const only = new Map([[0, ['chat-test', 'kv-test']]]);
    const passed: RunResult = {
      ms: 1,
      tests: [
        {
          index: 0,
          status: 'passed',
          ms: 1,
          packages: [
            { name: 'chat-test', path: 'chat-test', status: 'passed', ms: 1 },
            { name: 'kv-test', path: 'kv-test', status: 'passed', ms: 1 },
          ],
        },
      ],
    };
    saveRerun(file, passed, only);
    assert.deepEqual([...(loadRerun(file) ?? [])], [[1, ['echo-test']]]);
    saveRerun(file, SETUP_FAILED);
    assert.deepEqual([...(loadRerun(file) ?? [])], [[0, ['echo-test']]]);
    assert.equal(loadRerun('/other/tests.toml'), undefined);
  });
});
