// kit's node as the real kit's runtime. bin/kit-hyperdrive.js takes Hyperdrive's command line: run
// here exactly as the real kit's run-tests runs a runtime (its argv, a pty on stdin that is not its
// terminal, the Ctrl-C byte to stop it), through our own `kit boot-fake-node --runtime-path`, and
// as tests.toml's `runtime = { RepoPath = "<file>" }` under `kit run-tests`.

import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { chainClients, HYPERMAP, hypermapAbi, namehash, probeChain } from '../../src/chain/index.js';
import { makeMessage, sendMessage } from '../../src/node-client/rpc.js';
import { REPO, runKit } from '../helpers/kit.js';
import { exited, freePort } from './helpers.js';

const BIN = join(REPO, 'bin', 'kit-hyperdrive.js');
const tmp = mkdtempSync(join(tmpdir(), 'kit-hyperdrive-e2e-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function collect(child: ChildProcess): () => string {
  let out = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    out += d;
  });
  return () => out;
}

async function until(what: string, ok: () => Promise<boolean> | boolean, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (!(await ok())) {
    if (child.exitCode !== null) throw new Error(`exited (${child.exitCode}) before ${what}:\n${output()}`);
    if (Date.now() > deadline) throw new Error(`no ${what} within 2 minutes:\n${output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The real kit's boot probe (kit src/run_tests/mod.rs wait_until_booted): a VFS ReadDir of
 * /tester:sys/tests; any 200 whose JSON has a `body` counts (inject_message/mod.rs parse_response),
 * whatever the VFS says inside it (the RPC holds write on that drive, not read).
 */
async function answersProbe(port: number): Promise<boolean> {
  try {
    const r = await sendMessage(`http://localhost:${port}`, makeMessage({ process: 'vfs:distro:sys', body: JSON.stringify({ path: '/tester:sys/tests', action: 'ReadDir' }) }), { timeoutMs: 5000 });
    return typeof r?.body === 'string';
  } catch {
    return false;
  }
}

async function onchain(chainPort: number, name: string) {
  const [tba, owner, data] = await chainClients(`http://127.0.0.1:${chainPort}`).public.readContract({ address: HYPERMAP, abi: hypermapAbi, functionName: 'get', args: [namehash(name)] });
  return { tba, owner, data };
}

describe('kit-hyperdrive as the real kit runs a runtime', { timeout: 600_000 }, () => {
  it("boots from the real kit's command line, answers its boot probe, registers, and stops on the Ctrl-C byte", async () => {
    const [port, chainPort] = [await freePort(), await freePort()];
    const home = join(tmp, 'pty-home');
    // kit src/run_tests/mod.rs: <home> --port P --verbosity V --expose-local [--rpc] [--password] --fake-node-name N --fakechain-port C
    const argv = [home, '--port', String(port), '--verbosity', '0', '--expose-local', '--password', 'secret', '--fake-node-name', 'ptynode.os', '--fakechain-port', String(chainPort)];
    const child = spawn('python3', [join(REPO, 'test', 'fixtures', 'pty-runtime.py'), BIN, ...argv], { stdio: ['pipe', 'pipe', 'pipe'] });
    const output = collect(child);
    const done = exited(child);
    await until('answer to the boot probe', () => answersProbe(port), child, output);
    const entry = await onchain(chainPort, 'ptynode.os');
    assert.notEqual(entry.tba, '0x0000000000000000000000000000000000000000', 'registered under os, as Hyperdrive registers');
    assert.match(output(), /kit-hyperdrive: ptynode\.os is running/);

    child.stdin?.write('stop\n');
    const code = await Promise.race([done, new Promise<string>((r) => setTimeout(() => r('still running a minute after the Ctrl-C byte'), 60_000).unref())]);
    if (typeof code === 'string') process.kill(Number(/runtime pid (\d+)/.exec(output())?.[1]), 'SIGKILL');
    assert.equal(code, 0, output());
    assert.match(output(), /exit code received/);
    assert.match(output(), /exit 0$/m);
    assert.ok(existsSync(join(home, '.net-key.json')), 'the home is kept, as Hyperdrive keeps it (the real kit deletes it)');
    assert.equal(await probeChain(`http://127.0.0.1:${chainPort}`, 500), undefined, 'the chain it started stopped with it');
  });

  it('is what `kit boot-fake-node --runtime-path <file>` runs', async () => {
    const [port, chainPort] = [await freePort(), await freePort()];
    const home = join(tmp, 'kit-f-home');
    const child = spawn(process.execPath, [join(REPO, 'bin', 'run.js'), 'boot-fake-node', '-r', BIN, '-p', String(port), '-o', home, '-f', 'rnode', '-c', String(chainPort)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const output = collect(child);
    const done = exited(child);
    await until('answer to the boot probe', () => answersProbe(port), child, output);
    assert.match(output(), new RegExp(`Running ${BIN} ${home} --port ${port} --verbosity 0 --expose-local --password secret --fake-node-name rnode\\.dev --fakechain-port ${chainPort}`));
    assert.notEqual((await onchain(chainPort, 'rnode.dev')).tba, '0x0000000000000000000000000000000000000000');
    child.kill('SIGINT');
    assert.equal(await done, 0, output());
    assert.equal(existsSync(home), false, 'kit deletes the home without --persist');
  });
});

describe('kit run-tests with runtime = { RepoPath = "<kit-hyperdrive>" }', { timeout: 30 * 60_000 }, () => {
  const dir = '/tmp/kit-run-tests-e2e/repo-path/echo';

  it("runs the echo template's test on kit's node started through kit-hyperdrive", async () => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(dir, '..'), { recursive: true });
    const made = await runKit(['new', dir, '-t', 'echo', '-l', 'typescript']);
    assert.equal(made.code, 0, made.output);
    const file = join(dir, 'test', 'tests.toml');
    const [node, chain] = [await freePort(), await freePort()];
    let text = readFileSync(file, 'utf8');
    text = text.replace(/^runtime = .*$/m, `runtime = { RepoPath = "${BIN}" }`);
    text = text.replace(/^port = \d+$/m, `port = ${node}`).replace(/^fakechain_router = \d+$/m, `fakechain_router = ${chain}`);
    writeFileSync(file, text);

    const r = await runKit(['run-tests'], { cwd: dir, timeoutMs: 20 * 60_000 });
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, new RegExp(`runtime RepoPath "${BIN}": every node runs ${BIN} with Hyperdrive's command line`));
    assert.match(r.stdout, /PASS tests\[0\] echo-test/);
    assert.equal(r.stdout.trim().split('\n').at(-1), '1 passed, 0 failed');
    const ps = execFileSync('ps', ['-eo', 'args='], { encoding: 'utf8' });
    assert.deepEqual(
      ps.split('\n').filter((l) => l.includes(dir) || l.includes(`--port ${chain}`)),
      [],
      'no node or chain left running',
    );
  });
});
