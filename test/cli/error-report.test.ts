// What a user sees when kit refuses: every error leaves in one shape (`Error: ...`, `hint: ...`),
// with no stack trace, whether oclif found it (unknown flag, missing argument, unknown command)
// or a command did (a KitError). bin/run.js + src/cli/report.ts.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { colorEnabled } from '../../src/cli/errors.js';
import { reportError } from '../../src/cli/report.js';
import { KitError } from '../../src/cli/errors.js';
import { closestCommands } from '../../src/cli/not-found.js';
import { kit } from './helpers/cli.js';

const NO_STACK = /^\s+at /m;

describe('errors on their way out of kit', () => {
  test('an unknown flag: named, with a hint to --help, exit 2', async () => {
    const r = await kit(['build', '--bogus']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'Error: Nonexistent flag: --bogus\nhint: add --help to the command to see its arguments and flags\n');
    assert.doesNotMatch(r.stderr, NO_STACK);
  });

  test('a missing argument: named with its description, with a hint to --help, exit 2', async () => {
    const r = await kit(['new']);
    assert.equal(r.code, 2);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines[0], 'Error: Missing 1 required arg:');
    assert.match(lines[1], /^dir +Path to create template directory at/);
    assert.equal(lines.at(-1), 'hint: add --help to the command to see its arguments and flags');
    assert.doesNotMatch(r.stderr, NO_STACK);
  });

  test('an unknown command: named, with a hint to list the commands', async () => {
    const r = await kit(['frobnicate']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'Error: command frobnicate not found\nhint: run `kit --help` to list the commands\n');
  });

  test('a mistyped command: "did you mean", as clap says it in the real kit', async () => {
    const r = await kit(['bulid']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'Error: command bulid not found\nhint: did you mean `kit build`?\n');
    assert.deepEqual(closestCommands('star-package', ['start-package', 'remove-package', 'new']), ['start-package']);
    assert.deepEqual(closestCommands('xyz', ['new', 'build']), [], 'nothing near: no guess');
  });

  test('a KitError from a command: message and hint, exit 1, no stack', async () => {
    const r = await kit(['build', '/nonexistent/kit-test-package']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: package directory \/nonexistent\/kit-test-package does not exist\.\nhint: .*kit new/m);
    assert.doesNotMatch(r.stderr, NO_STACK);
  });

  test('a bug keeps its stack so it can be reported', () => {
    const out = captureStream();
    const code = reportError(new TypeError('x is undefined'), out.stream);
    assert.equal(code, 1);
    assert.match(out.text(), /^Error: x is undefined\nTypeError: x is undefined\n\s+at /);
  });

  test('a KitError reported directly keeps its exit status and details', () => {
    const out = captureStream();
    const code = reportError(new KitError('no node running', { details: 'port 8080 refused', hint: 'start one with `kit f`', exitCode: 3 }), out.stream);
    assert.equal(code, 3);
    assert.equal(out.text(), 'Error: no node running\nport 8080 refused\nhint: start one with `kit f`\n');
  });

  test('colour only on a terminal, and never with NO_COLOR or in CI', () => {
    assert.equal(colorEnabled({ isTTY: true }, {}), true);
    assert.equal(colorEnabled({ isTTY: false }, {}), false);
    assert.equal(colorEnabled({ isTTY: true }, { NO_COLOR: '1' }), false);
    assert.equal(colorEnabled({ isTTY: true }, { CI: 'true' }), false);
    assert.equal(colorEnabled({ isTTY: false }, { FORCE_COLOR: '1' }), true);
    assert.equal(colorEnabled({ isTTY: true }, { TERM: 'dumb' }), false);
  });
});

function captureStream(): { stream: NodeJS.WriteStream; text: () => string } {
  let text = '';
  const stream = { isTTY: false, write: (s: string) => {
      text += s;
      return true;
    },
  } as unknown as NodeJS.WriteStream;
  return { stream, text: () => text };
}
