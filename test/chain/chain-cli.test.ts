// `kit chain` as a user runs it: starts a chain with the contracts, reuses one, stops on Ctrl-C,
// and refuses a port that something else holds.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { spawnAnvil } from '../../src/chain/anvil.js';
import { describeFoundChain, hasContracts, OS_TBA, probeChain, startChain } from '../../src/chain/index.js';
import { REPO, runKit } from '../helpers/kit.js';
import { freePort } from './helpers.js';

describe('kit chain', () => {
  test('starts anvil with Hypermap, a second kit chain reuses it, Ctrl-C stops it', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [join(REPO, 'bin/run.js'), 'chain', '-p', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      const deadline = Date.now() + 60_000;
      while (!out.includes('Ctrl-C to stop')) {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`kit chain did not come up:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const url = `http://127.0.0.1:${port}`;
      assert.equal(await hasContracts(url), true);
      assert.match(out, new RegExp(`chain on ${port}: started now by kit chain; .*os account (created|present) at ${OS_TBA}; dev (minted|present)`));

      const again = await runKit(['chain', '-p', String(port)]);
      assert.equal(again.code, 0, again.output);
      assert.match(again.output, /already answers on port \d+; reusing it/);
      assert.match(again.output, new RegExp(`set up by kit \\(this kit's contracts\\); os account present at ${OS_TBA}; dev present`));
    } finally {
      child.kill('SIGINT');
    }
    assert.equal(await exited, 0, out);
    assert.match(out, /Chain stopped/);
    assert.equal(await probeChain(`http://127.0.0.1:${port}`, 500), undefined, 'anvil is gone after Ctrl-C');
  });

  test('a bare anvil already on the port gets kit\'s contracts and is reused, not owned', async () => {
    const port = await freePort();
    const bare = await spawnAnvil({ port });
    try {
      assert.equal(await hasContracts(bare.url), false);
      const c = await startChain({ port });
      assert.equal(c.owned, false);
      assert.deepEqual(c.report, { contracts: 'laid out now', os: 'created', dev: 'minted' });
      assert.match(describeFoundChain(c), /not started by this kit/);
      assert.equal(await hasContracts(bare.url), true);
      await c.stop();
      assert.notEqual(await probeChain(bare.url), undefined, 'stopping a reused chain leaves it running');
    } finally {
      await bare.stop();
    }
  });

  test('a port held by something that is not a chain is a clear error', async () => {
    const srv = createServer((_req, res) => res.end('not json'));
    const port = await new Promise<number>((r) => srv.listen(0, '127.0.0.1', () => r((srv.address() as { port: number }).port)));
    try {
      const r = await runKit(['chain', '-p', String(port)]);
      assert.notEqual(r.code, 0);
      assert.match(r.output, new RegExp(`Port ${port} is in use by something that is not an Ethereum JSON-RPC node`));
    } finally {
      srv.close();
    }
  });
});
