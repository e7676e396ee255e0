// kit-hyperdrive's command line: Hyperdrive's flags as the real kit passes them (kit
// src/boot_fake_node/mod.rs, src/run_tests/mod.rs), what it honours, accepts without effect, or
// refuses with the reason; and `kit boot-fake-node -- ARGS`, which takes the same flags.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ArgvError, parseExtraArgs, parseNodeArgv } from '../../src/node-cli/argv.js';
import { REPO } from '../helpers/kit.js';

function run(argv: string[]) {
  const p = parseNodeArgv(argv);
  assert.equal(p.kind, 'run');
  return p.kind === 'run' ? p.args : undefined;
}

describe("kit-hyperdrive: Hyperdrive's command line", () => {
  test("the real kit's boot-fake-node and run-tests command lines", () => {
    const fake = run(['/tmp/h', '--port', '8080', '--verbosity', '0', '--expose-local', '--password', 'secret', '--fake-node-name', 'fake.os', '--fakechain-port', '8545']);
    assert.deepEqual(fake, { home: '/tmp/h', port: 8080, verbosity: 0, detached: false, password: 'secret', fakeNodeName: 'fake.os', fakechainPort: 8545, notes: [] });
    const tests = run(['/t/home/first', '--port', '8081', '--verbosity', '2', '--expose-local', '--rpc', 'ws://x', '--fake-node-name', 'first.os', '--fakechain-port', '8546']);
    assert.equal(tests?.rpc, 'ws://x');
    assert.equal(tests?.password, undefined);
    assert.equal(tests?.verbosity, 2);
  });

  test('short and inline forms as clap takes them', () => {
    const a = run(['-p8080', '-v=3', '--ws-port=9001', '-d', 'h', '--soft-ulimit', '2048']);
    assert.deepEqual([a?.port, a?.verbosity, a?.wsPort, a?.detached, a?.home, a?.softUlimit], [8080, 3, 9001, true, 'h', 2048]);
  });

  test("--max-passthroughs sets the node's passthrough quota, as Hyperdrive's (hyperdrive/src/main.rs)", () => {
    assert.equal(run(['h', '--max-passthroughs', '0'])?.maxPassthroughs, 0);
    assert.equal(parseExtraArgs(['--max-passthroughs=5']).maxPassthroughs, 5);
  });

  test('accepted without effect, with a note saying why', () => {
    const a = run(['h', '-l', '--max-log-size', '100', '--number-log-files', '2', '--reveal-ip', 'false']);
    assert.equal(a?.notes.length, 4);
    assert.match(a?.notes.join('\n') ?? '', /--logging-off: accepted, no effect \(kit's node writes no terminal log files\)/);
    assert.match(a?.notes.join('\n') ?? '', /--reveal-ip: accepted, no effect \(a fake node is a direct node/);
  });

  test('refused: flags it cannot honour, unknown flags, bad values, a missing home', () => {
    const refused: Array<[string[], RegExp]> = [
      [['h', '--tcp-port', '10000'], /--tcp-port is not supported: kit's node speaks only WebSockets/],
      [['h', '--rpc-config', 'x.json'], /--rpc-config is not supported/],
      [['h', '--max-peers', '8'], /--max-peers is not supported/],
      [['h', '--process-verbosity', '{}'], /--process-verbosity is not supported/],
      [['h', '--bogus'], /unexpected argument '--bogus' found/],
      [['h', '--port', 'x'], /invalid value 'x' for '--port': expected a whole number from 0 to 65535/],
      [['h', '--port', '70000'], /invalid value '70000'/],
      [['h', '--reveal-ip', 'maybe'], /expected true or false/],
      [['h', '--port'], /a value is required for '--port <PORT>'/],
      [['h', '--expose-local=yes'], /unexpected value 'yes' for '--expose-local'/],
      [['--port', '1'], /required arguments were not provided: <HOME>/],
      [['a', 'b'], /unexpected argument 'b' found \(one <HOME> only\)/],
    ];
    for (const [argv, re] of refused) assert.throws(() => parseNodeArgv(argv), (e: Error) => e instanceof ArgvError && re.test(e.message), argv.join(' '));
    assert.deepEqual(parseNodeArgv(['--help']), { kind: 'help' });
    assert.deepEqual(parseNodeArgv(['-V']), { kind: 'version' });
  });

  test('the executable: --help, --version, and exit status 2 for a bad command line', () => {
    const bin = join(REPO, 'bin', 'kit-hyperdrive.js');
    const help = spawnSync(bin, ['--help'], { encoding: 'utf8' });
    assert.equal(help.status, 0);
    assert.match(help.stdout, /Usage: kit-hyperdrive <HOME> \[OPTIONS\]/);
    assert.match(help.stdout, /kit boot-fake-node --runtime-path <this file>/);
    const version = spawnSync(bin, ['-V'], { encoding: 'utf8' });
    assert.match(version.stdout, /^kit-hyperdrive \d+\.\d+\.\d+ \(kit's embedded TypeScript node\)/);
    const bad = spawnSync(bin, ['/tmp/x', '--tcp-port', '1'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^error: --tcp-port is not supported/);
    const noName = spawnSync(bin, ['/tmp/never-made', '--password', 'p'], { encoding: 'utf8' });
    assert.equal(noName.status, 2);
    assert.match(noName.stderr, /kit's node is a fake node only: pass --fake-node-name <NAME>/);
  });
});

describe('kit boot-fake-node -- ARGS', () => {
  test('takes the Hyperdrive flags kit does not set itself', () => {
    assert.deepEqual(parseExtraArgs(['--ws-port', '9001', '--soft-ulimit', '512', '-d', '--max-passthroughs', '3']), { wsPort: 9001, softUlimit: 512, maxPassthroughs: 3, detached: true, notes: [] });
    assert.throws(() => parseExtraArgs(['--fakechain-port', '1']), /--fakechain-port after -- is set by kit boot-fake-node itself/);
    assert.throws(() => parseExtraArgs(['stray']), /unexpected argument 'stray' after --/);
    assert.throws(() => parseExtraArgs(['--tcp-port', '1']), /--tcp-port is not supported/);
  });
});
