// Test-package helpers: the Run protocol of tester:tester:sys and where fail() says a test failed.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { beforeEach, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { bundleProcess } from '../../src/build/bundle.js';
import { bodyJson, fake, lib } from './helpers/lib.js';

let host: InstanceType<typeof fake.FakeHost>;
const TESTER = lib.parseAddress('first.os@tester:tester:sys');
const OUR = 'first.os@12345:tester:sys';

function run(nodes: string[], source = TESTER) {
  host.incoming.push({
    source,
    message: {
      tag: 'request',
      val: fake.request(JSON.stringify({ Run: { input_node_names: nodes, test_names: ['t'], test_timeout: 5 } }), {
        expectsResponse: 5n,
      }),
    },
  });
}

beforeEach(() => {
  host = fake.installHost();
});

test('parseStackLocation reads SpiderMonkey and V8 frames', () => {
  const spidermonkey = 'where@lib.js:12:7\ninit@lib.js:40:3\nexport_init@/tmp/x/sources/initializer.js:3018:15\n';
  assert.deepEqual(lib.parseStackLocation(spidermonkey, 1), { file: 'lib.js', line: 40, column: 3 });
  const v8 = 'Error: x\n    at fail (file:///a/b/testing.js:5:9)\n    at run (/a/b/lib.js:77:12)\n    at file:///a/main.js:3:1';
  assert.deepEqual(lib.parseStackLocation(v8, 1), { file: 'lib.js', line: 77, column: 12 });
  assert.deepEqual(lib.parseStackLocation(v8, 2), { file: 'main.js', line: 3, column: 1 });
  assert.equal(lib.parseStackLocation(undefined), undefined);
});

test('a passing test answers {"Run": {"Ok": null}} on the master node', () => {
  let ctx: { nodes: string[]; timeout: number } | undefined;
  run(['first.os', 'second.os']);
  const init = lib.testPackage('demo-test', (t) => {
    ctx = t;
  });
  assert.throws(() => init(OUR), /no more incoming/); // the test loops for more Runs
  assert.deepEqual(ctx?.nodes, ['first.os', 'second.os']);
  assert.equal(ctx?.timeout, 5);
  assert.deepEqual(bodyJson(host.responses[0].response.body), { Run: { Ok: null } });
});

test('on other nodes the test answers Ok without running; Runs from other nodes are ignored', () => {
  let ran = false;
  run(['second.os', 'first.os']);
  run(['first.os'], lib.parseAddress('evil.os@tester:tester:sys'));
  const init = lib.testPackage('demo-test', () => {
    ran = true;
  });
  assert.throws(() => init(OUR), /no more incoming/);
  assert.equal(ran, false);
  assert.equal(host.responses.length, 1);
  assert.deepEqual(bodyJson(host.responses[0].response.body), { Run: { Ok: null } });
  assert.ok(host.prints.some(([, text]) => text.includes('ignoring a Request from another node (evil.os)')));
});

test('fail() answers the test name with the file, line and column of the call', () => {
  run(['first.os']);
  let here: ReturnType<typeof lib.parseStackLocation>;
  // Records the frame that calls it: the same line as the fail() call below.
  const message = () => {
    here = lib.parseStackLocation(new Error().stack, 1);
    return 'it broke';
  };
  const init = lib.testPackage('demo-test', () => {
    lib.fail(message());
  });
  assert.throws(() => init(OUR), (e: Error) => e instanceof lib.TestFailure && e.message === 'it broke');
  const answer = bodyJson(host.responses[0].response.body) as { Run: { Err: { test: string; file: string; line: number; column: number } } };
  assert.equal(answer.Run.Err.test, 'demo-test');
  assert.equal(answer.Run.Err.file, here!.file);
  assert.equal(answer.Run.Err.line, here!.line);
  assert.ok(host.prints.some(([, text]) => text.startsWith('FAIL demo-test') && text.endsWith('it broke')));
});

test('an uncaught error fails the test where it was thrown, with its message printed', () => {
  run(['first.os']);
  let line = 0;
  const init = lib.testPackage('demo-test', () => {
    const e = new RangeError('out of range');
    line = lib.parseStackLocation(e.stack)!.line;
    throw e;
  });
  assert.throws(() => init(OUR), lib.TestFailure);
  const answer = bodyJson(host.responses[0].response.body) as { Run: { Err: { line: number } } };
  assert.equal(answer.Run.Err.line, line);
  assert.ok(host.prints.some(([, text]) => text === 'demo-test: RangeError: out of range'));
});

test('assertEqual and assertBytesEqual say what differed', () => {
  run(['first.os']);
  run(['first.os']);
  assert.throws(
    () => lib.testPackage('eq', () => lib.assertEqual({ a: 1 }, { a: 2 }, 'the thing'))(OUR),
    (e: Error) => e.message === 'the thing: got {"a":1}, expected {"a":2}',
  );
  assert.throws(
    () => lib.testPackage('bytes', () => lib.assertBytesEqual(Uint8Array.from([1, 2, 3]), Uint8Array.from([1, 9, 3])))(OUR),
    (e: Error) => e.message === 'bytes differ: first difference at byte 1 (2 instead of 9)',
  );
  lib.assertEqual(Uint8Array.from([1]), Uint8Array.from([1]));
  lib.assertBytesEqual(Uint8Array.from([1]), Uint8Array.from([1]));
});

test('assertEqual with undefined fails with the label and both values, not a JSON error', () => {
  run(['first.os']);
  const reply: { metadata?: string } = {};
  assert.throws(
    () => lib.testPackage('undef', () => lib.assertEqual(reply.metadata, 'meta', 'metadata'))(OUR),
    (e: Error) => e instanceof lib.TestFailure && e.message === 'metadata: got undefined, expected "meta"',
  );
  lib.assertEqual(undefined, undefined);
});

test('in a bundle kit build made, a failure is reported at the test source file and line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kit-failure-at-'));
  try {
    const entry = join(dir, 't-test', 'src', 'lib.ts');
    mkdirSync(dirname(entry), { recursive: true });
    const source = [
      "import { assertEqual, testPackage } from 'kit/process';",
      '',
      "export const init = testPackage('t-test', () => {",
      '  const reply: { metadata?: string } = {};',
      "  assertEqual(reply.metadata, 'meta', 'metadata');",
      '});',
      '',
    ].join('\n');
    writeFileSync(entry, source);
    const outFile = join(dir, 'target', 'js', 't-test.js');
    await bundleProcess({ packageDir: dir, processName: 't-test', entry, outFile, features: ['test'] });
    assert.match(readFileSync(outFile, 'utf8'), /globalThis\.__KIT_SOURCE_MAP__ = \{"sources":\[[^\]]*"t-test\/src\/lib\.ts"/);
    const bundle = (await import(pathToFileURL(outFile).href)) as { init: (our: string) => void };
    run(['first.os']);
    assert.throws(() => bundle.init(OUR), /metadata: got undefined, expected "meta"/);
    const answer = bodyJson(host.responses[0].response.body) as { Run: { Err: { test: string; file: string; line: number; column: number } } };
    assert.deepEqual(answer.Run.Err, { test: 't-test', file: 't-test/src/lib.ts', line: 5, column: 3 });
    assert.ok(host.prints.some(([, text]) => text === 'FAIL t-test t-test/src/lib.ts:5:3: metadata: got undefined, expected "meta"'));
  } finally {
    delete (globalThis as Record<string, unknown>).__KIT_SOURCE_MAP__;
    rmSync(dir, { recursive: true, force: true });
  }
});
