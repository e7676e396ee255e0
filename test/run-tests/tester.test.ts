// tester:tester:sys on a node, driven over the kit RPC as run-tests (ours or the real kit) drives
// it: its drives take the test files, other nodes answer Run with Ok at once, and the master
// answers a Run it cannot carry out with the tester's own FailResponse.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeMessage, sendMessage } from '../../src/node-client/rpc.js';
import { parseRunRequest } from '../../src/runtime/packages/tester/index.js';
import { createLogger } from '../../src/core/log.js';
import { bootNode, type RunningNode } from '../../src/runtime/node.js';

describe('tester:tester:sys', () => {
  const home = mkdtempSync(join(tmpdir(), 'kit-tester-'));
  let node: RunningNode;
  before(async () => {
    node = await bootNode({ home, port: 0, name: 'first.dev', log: createLogger({ terminal: null, file: null }) });
  });
  after(async () => {
    await node?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  async function rpc(process: string, body: unknown, blob?: Uint8Array): Promise<unknown> {
    const r = await sendMessage(node.url, makeMessage({ process, body: JSON.stringify(body), blob }));
    return JSON.parse(r?.body ?? 'null');
  }

  it('lets kit write under tester:sys/tests and tester:sys/setup through the RPC (write only, as the real tester grants)', async () => {
    // The tester creates its drives and grants the RPC write as it starts; the first RPC may come right after boot.
    let ready: unknown;
    for (let i = 0; i < 50; i++) {
      ready = await rpc('vfs:distro:sys', { path: '/tester:sys/tests', action: 'CreateDirAll' });
      if (ready === 'Ok') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(ready, 'Ok');
    assert.equal(await rpc('vfs:distro:sys', { path: '/tester:sys/tests/a.wasm', action: 'Write' }, Uint8Array.of(0, 97, 115, 109)), 'Ok');
    assert.equal(await rpc('vfs:distro:sys', { path: '/tester:sys/setup/b.wasm', action: 'Write' }, Uint8Array.of(1)), 'Ok');
    assert.deepEqual([...readFileSync(join(node.home, 'vfs/tester:sys/tests/a.wasm'))], [0, 97, 115, 109]);
    // Hyperdrive's tester gives the RPC write, not read: listing answers NoReadCap (kit only needs an answer)
    assert.deepEqual(await rpc('vfs:distro:sys', { path: '/tester:sys/tests', action: 'ReadDir' }), { Err: 'NoReadCap' });
  });

  it('answers Ok at once on a node that is not the master', async () => {
    const r = await rpc('tester:tester:sys', { Run: { input_node_names: ['other.dev', 'first.dev'], test_names: ['x'], test_timeout: 5 } });
    assert.deepEqual(r, { Run: { Ok: null } });
  });

  it('on the master, a test that was not loaded fails as test "tester" with a source location', async () => {
    const r = (await rpc('tester:tester:sys', { Run: { input_node_names: ['first.dev'], test_names: ['missing-test'], test_timeout: 5 } })) as {
      Run: { Err: { test: string; file: string; line: number; column: number } };
    };
    assert.equal(r.Run.Err.test, 'tester');
    assert.ok(r.Run.Err.file.length > 0 && r.Run.Err.line > 0, JSON.stringify(r));
  });

  it('reads only well-formed Run requests', () => {
    assert.deepEqual(parseRunRequest({ Run: { input_node_names: ['a.dev'], test_names: [], test_timeout: 5 } }), {
      input_node_names: ['a.dev'],
      test_names: [],
      test_timeout: 5,
    });
    assert.equal(parseRunRequest({ Run: { input_node_names: 'a.dev', test_names: [], test_timeout: 5 } }), undefined);
    assert.equal(parseRunRequest({ Run: { input_node_names: [], test_names: [], test_timeout: -1 } }), undefined);
    assert.equal(parseRunRequest('Run'), undefined);
  });
});
