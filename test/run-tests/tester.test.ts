// tester:tester:sys on a node, driven over the kit RPC as run-tests (ours or the real kit) drives
// it: its drives take the test files, other nodes answer Run with Ok at once, the master answers
// a Run it cannot carry out (or a malformed one) with the tester's own FailResponse, a test gets
// only the requested capabilities the tester holds, and a Run from another node is ignored.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { buildFixture, repoRoot } from '../../src/build/componentize.js';
import { makeMessage, sendMessage } from '../../src/node-client/rpc.js';
import { parseRunRequest, TESTER_PROCESS } from '../../src/runtime/packages/tester/index.js';
import type { KernelApi } from '../../src/runtime/kernel/api.js';
import type { Kernel } from '../../src/runtime/kernel/kernel.js';
import { NETWORK_PARAMS, type ProcessId, systemProcess } from '../../src/core/types.js';
import { freePort } from '../chain/helpers.js';
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

  it('answers a malformed Run as the real tester does: a FailResponse naming the tester (hd packages/tester lib.rs fail!)', async () => {
    for (const body of [{ Run: { input_node_names: 'first.dev' } }, { Walk: {} }, 'Run']) {
      const r = (await rpc('tester:tester:sys', body)) as { Run: { Err: { test: string; file: string; line: number } } };
      assert.equal(r.Run.Err.test, 'tester', JSON.stringify(r));
      assert.ok(r.Run.Err.file.length > 0 && r.Run.Err.line > 0, JSON.stringify(r));
    }
  });

  it("gives a test only the requested capabilities the tester holds, plus the tester's own (hd kernel FilterCaps on spawn)", async () => {
    const wasm = await buildFixture(join(repoRoot(), 'test/fixtures/processes/caps-report.js'), { witPath: join(repoRoot(), 'wit', 'hyperware.wit') });
    assert.equal(await rpc('vfs:distro:sys', { path: '/tester:sys/tests/caps-report.wasm', action: 'Write' }, wasm), 'Ok');
    const caps = {
      'caps-report': {
        // fd-manager: the tester holds it (not in its manifest's list); secret: nobody gave the tester that.
        request_capabilities: ['fd-manager:distro:sys', 'secret:secret:kit-tests.os', JSON.stringify({ issuer: 'first.dev@vfs:distro:sys', params: '{"kind":"write","drive":"/other:pkg/x"}' })],
        grant_capabilities: [],
      },
    };
    assert.equal(await rpc('vfs:distro:sys', { path: '/tester:sys/tests/capabilities.json', action: 'Write' }, new TextEncoder().encode(JSON.stringify(caps))), 'Ok');
    const r = (await rpc('tester:tester:sys', { Run: { input_node_names: ['first.dev'], test_names: ['caps-report'], test_timeout: 30 } })) as {
      Run: { Err: { test: string; file: string } };
    };
    assert.equal(r.Run.Err.test, 'caps-report', JSON.stringify(r));
    const held = JSON.parse(r.Run.Err.file) as string[];
    assert.ok(held.includes('first.dev@fd-manager:distro:sys "messaging"'), held.join('\n'));
    for (const own of ['timer', 'kv', 'vfs', 'eth']) assert.ok(held.includes(`first.dev@${own}:distro:sys "messaging"`), `the tester's own ${own} capability`);
    assert.ok(!held.some((c) => c.includes('secret:secret:kit-tests.os')), 'a capability the tester does not hold is not passed on');
    assert.ok(!held.some((c) => c.includes('/other:pkg/x')), held.join('\n'));
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

describe('tester:tester:sys and other nodes', () => {
  const home = mkdtempSync(join(tmpdir(), 'kit-tester-remote-'));
  after(() => rmSync(home, { recursive: true, force: true }));

  it('ignores a Run that comes from another node (a peer cannot run the tests loaded on this one)', async () => {
    const chainPort = await freePort();
    let printed = '';
    const output = new Writable({
      write(chunk, _enc, done) {
        printed += String(chunk);
        done();
      },
    });
    const a = await bootNode({ home: join(home, 'a'), port: 0, name: 'testera.dev', fakechainPort: chainPort, terminal: { input: null, output } });
    const b = await bootNode({ home: join(home, 'b'), port: 0, name: 'testerb.dev', fakechainPort: chainPort, log: createLogger({ terminal: null, file: null }) });
    try {
      const sender: ProcessId = { processName: 'sender', packageName: 'probe', publisherNode: 'sys' };
      let kernel!: KernelApi;
      await (b.kernel as Kernel).addNative({ id: sender, start: (k) => {
          kernel = k;
        }, handle: () => {} }, [
        { issuer: { node: b.name, process: systemProcess('kernel') }, params: NETWORK_PARAMS },
      ]);
      const run = JSON.stringify({ Run: { input_node_names: ['testera.dev'], test_names: ['anything'], test_timeout: 5 } });
      for (let i = 0; i < 300 && !printed.includes('tester: ignoring a request from testerb.dev'); i++) {
        kernel.tell(sender, { node: a.name, process: TESTER_PROCESS }, run);
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.match(printed, /tester: ignoring a request from testerb\.dev: tests run only at this node's own request/);
      assert.doesNotMatch(printed, /test anything not found/, 'the Run was not carried out');
    } finally {
      await b.stop();
      await a.stop();
    }
  });
});
