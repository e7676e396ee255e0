// A shared fake chain (what fake nodes and run-tests start) outlives the kit process that started
// it while anyone else uses it, survives that process being killed, and stops when the last user
// lets go; a chain kit did not start is never stopped by kit.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { spawnAnvil } from '../../src/chain/anvil.js';
import { describeFoundChain, probeChain, readSharedAnvil, startChain } from '../../src/chain/index.js';
import { REPO } from '../helpers/kit.js';
import { freePort } from './helpers.js';

describe('shared fake chain lifetime', () => {
  test('the starter letting go leaves the chain up for the other user; the last one stops it', async () => {
    const port = await freePort();
    const first = await startChain({ port });
    const second = await startChain({ port });
    assert.equal(first.owned, true);
    assert.equal(second.owned, false);
    const anvil = readSharedAnvil(port);
    assert.ok(anvil, 'kit recorded the anvil it started');
    assert.match(describeFoundChain(second), new RegExp(`chain on ${port}: started by kit \\(pid ${anvil.pid}`));

    await first.stop();
    assert.notEqual(await probeChain(first.url), undefined, 'still up: the second user holds it');
    await second.stop();
    assert.equal(await probeChain(first.url, 500), undefined, 'the last user stopped it');
    assert.equal(readSharedAnvil(port), undefined);
  });

  test('a starter that is killed leaves the chain running; a user that died does not keep it up', async () => {
    const port = await freePort();
    const script = `import(${JSON.stringify(join(REPO, 'dist/src/chain/index.js'))}).then(async (m) => { await m.startChain({ port: ${port} }); console.log('up'); setInterval(() => {}, 1000); })`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d) => String(d).includes('up') && resolve());
      child.once('exit', (code) => reject(new Error(`the starter exited (${code}) before the chain was up`)));
    });
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
    const url = `http://127.0.0.1:${port}`;
    assert.notEqual(await probeChain(url), undefined, 'anvil is its own process: killing its starter does not stop it');

    const user = await startChain({ port });
    assert.equal(user.owned, false);
    assert.deepEqual({ os: user.report.os, dev: user.report.dev }, { os: 'present', dev: 'present' });
    await user.stop();
    assert.equal(await probeChain(url, 500), undefined, "the dead starter's lease does not keep it up");
  });

  test('a chain kit did not start stays up when its kit users let go', async () => {
    const port = await freePort();
    const own = await spawnAnvil({ port });
    try {
      const user = await startChain({ port });
      await user.stop();
      assert.notEqual(await probeChain(own.url), undefined);
    } finally {
      await own.stop();
    }
  });
});
