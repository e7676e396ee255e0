// The kernel from inside components, as Hyperdrive 1.9.2's kernel treats them: the capability
// check on every local message, Requests and Responses (hyperdrive/src/kernel/mod.rs), spawn and
// save_capabilities (hyperdrive/src/kernel/standard_host_v1.rs), the restart back-off
// (hyperdrive/src/kernel/process.rs), the Kernel API's edge cases (kernel/mod.rs
// handle_kernel_request) and the network's message size limit (hyperdrive/src/net/ws/utils.rs).
// Where ours goes further (a terminal line naming a missing grant, quotas), the case says so.

import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { fromUtf8, messagingCap, parseProcessId, systemProcess } from '../../src/core/types.js';
import type { SendErrorException } from '../../src/runtime/kernel/api.js';
import type { Kernel } from '../../src/runtime/kernel/kernel.js';
import { encodeHnsUpdate, netRootCap } from '../../src/runtime/modules/net/index.js';
import { FileStateStore } from '../../src/runtime/modules/state.js';
import { bootConformanceNode, type ConformanceNode, PUBLISHER } from './harness.js';

const HTTP = 'http-server:distro:sys';
const TIMER = 'timer:distro:sys';
const VFS = 'vfs:distro:sys';
const KERNEL = 'kernel:distro:sys';
const id = (name: string, pkg: string) => `${name}:${pkg}:${PUBLISHER}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The node's terminal, as lines. */
function terminalLines(): { lines: string[]; output: Writable } {
  const lines: string[] = [];
  let partial = '';
  const output = new Writable({
    write(chunk, _enc, done) {
      const text = partial + chunk.toString();
      const parts = text.split('\n');
      partial = parts.pop() ?? '';
      for (const l of parts) lines.push(l.replace(/\x1b\[[0-9;]*m/g, ''));
      done();
    },
  });
  return { lines, output };
}

/** A command to a driver, answered or not (the harness's own `ask`, with the error kept). */
async function command(c: ConformanceNode, driver: string, cmd: unknown): Promise<unknown> {
  const r = await c.node.kernel.request(systemProcess('http-server'), driver, JSON.stringify(cmd), { timeoutSecs: 120 });
  return JSON.parse(fromUtf8(r.response.body));
}

async function kernelDebug(c: ConformanceNode, process: string): Promise<unknown> {
  const r = await c.node.kernel.request(systemProcess('http-server'), KERNEL, JSON.stringify({ Debug: { Process: process } }), { timeoutSecs: 30 });
  return JSON.parse(fromUtf8(r.response.body));
}

describe('conformance: kernel', { timeout: 900_000 }, () => {
  let c: ConformanceNode;
  const term = terminalLines();
  const K = 'kconf';
  const S = 'kspawn';
  const Q = 'kquota';
  const F = 'kfiles';

  before(async () => {
    c = await bootConformanceNode(
      [
        {
          name: K,
          processes: [
            // grants what answers it, as Hyperdrive's own packages do
            { name: 'open', request_capabilities: [HTTP, VFS, KERNEL], grant_capabilities: [HTTP, TIMER, id('answerer', K)] },
            // grants http-server only (so the harness can talk to it)
            { name: 'nogrant', request_capabilities: [HTTP, VFS], grant_capabilities: [HTTP] },
            { name: 'pub', public: true, request_capabilities: [HTTP], grant_capabilities: [HTTP] },
            { name: 'answerer', request_capabilities: [HTTP], grant_capabilities: [HTTP, id('open', K)] },
            { name: 'looper', request_capabilities: [HTTP], grant_capabilities: [HTTP, id('open', K)] },
          ],
        },
        {
          name: S,
          processes: [
            {
              name: 'spawner',
              request_capabilities: [HTTP, VFS, { process: VFS, params: { kind: 'read', drive: `/${F}:${PUBLISHER}/pkg` } }],
              grant_capabilities: [HTTP],
            },
          ],
        },
        { name: Q, processes: [{ name: 'spawner', request_capabilities: [HTTP, VFS], grant_capabilities: [HTTP] }] },
        { name: F, processes: [{ name: 'files', request_capabilities: [HTTP], grant_capabilities: [HTTP] }], files: { 'broken.wasm': 'not a component' } },
      ],
      { terminal: { input: null, output: term.output }, quotas: { maxProcessesPerPackage: 6 } },
    );
  });
  after(async () => {
    await c?.stop();
  });

  describe('capabilities on every local message (hyperdrive/src/kernel/mod.rs)', () => {
    it('drops a Response whose responder was not granted: the requester times out, and the terminal says which grant is missing, once', async () => {
      const d = c.driver('nogrant', K);
      assert.deepEqual(await d.send(TIMER, { SetTimer: 0 }, { timeout: 2 }), { sendError: { kind: 'timeout', target: `fake.dev@${TIMER}` } });
      await d.send(TIMER, { SetTimer: 0 }, { timeout: 1 });
      const hint = `${id('nogrant', K)} did not get a Response from ${TIMER}: add "${TIMER}" to its grant_capabilities in pkg/manifest.json`;
      assert.equal(term.lines.filter((l) => l.includes(hint)).length, 1, term.lines.join('\n'));
    });

    it('delivers the same Response to a process that granted timer, and to a public one', async () => {
      assert.equal((await c.driver('open', K).answer(TIMER, { SetTimer: 0 })).body, '');
      assert.equal((await c.driver('pub', K).answer(TIMER, { SetTimer: 0 })).body, '');
    });

    it('lets vfs answer without a grant (kernel, state and vfs are exempt)', async () => {
      const a = await c.driver('nogrant', K).answer(VFS, { path: `/${K}:${PUBLISHER}/pkg`, action: 'ReadDir' });
      assert.equal(a.source, `fake.dev@${VFS}`);
    });

    it('refuses a Request to a non-public process without its capability, with a Timeout', async () => {
      assert.deepEqual(await c.driver('nogrant', K).send(id('answerer', K), 'hi', { timeout: 5 }), {
        sendError: { kind: 'timeout', target: `fake.dev@${id('answerer', K)}` },
      });
      await command(c, id('answerer', K), { AnswerWith: 'hello back' });
      const a = await c.driver('open', K).answer(id('answerer', K), 'hi');
      assert.equal(a.body, 'hello back');
    });
  });

  // standard_host_v1.rs save_capabilities: CapMessage::Add of any capability.
  it('saves a capability a process was never given, which then lets it message that process', async () => {
    const d = c.driver('nogrant', K);
    const cap = { issuer: `fake.dev@${id('answerer', K)}`, params: '"messaging"' };
    await command(c, id('nogrant', K), { SaveCapabilities: [cap] });
    assert.ok((await d.capabilities()).some((x) => x.issuer === cap.issuer && x.params === cap.params));
    await c.driver('answerer', K).inbox();
    // Delivered now; the answer is dropped (answerer holds nothing from nogrant), so a Timeout.
    assert.equal(((await d.send(id('answerer', K), 'after save', { timeout: 2 })) as { sendError: { kind: string } }).sendError.kind, 'timeout');
    const inbox = await c.driver('answerer', K).inbox();
    assert.ok(inbox.some((m) => m.request?.body === 'after save' && m.request.source === `fake.dev@${id('nogrant', K)}`));
  });

  describe('spawn (hyperdrive/src/kernel/standard_host_v1.rs)', () => {
    const spawner = id('spawner', S);
    const own = `/${S}:${PUBLISHER}/pkg/driver.wasm`;
    const spawn = (driver: string, s: Record<string, unknown>) =>
      command(c, driver, { Spawn: { name: null, onExit: 'None', requestCaps: [], grants: [], public: false, ...s } }) as Promise<{ ok?: string; err?: string }>;
    // What a child needs to be driven by the harness: http-server's capability both ways.
    const harnessCaps = { requestCaps: [{ issuer: `fake.dev@${HTTP}`, params: '"messaging"' }], grants: [[HTTP, '"messaging"']] };

    it('gives a child a random name when none is asked for', async () => {
      const r = await spawn(spawner, { path: own });
      assert.match(r.ok ?? '', new RegExp(`^\\d+:${S}:${PUBLISHER.replace('.', '\\.')}$`));
    });

    it('returns Ok(the existing id) for a taken name, and the existing process gets a "run" Request from the kernel', async () => {
      const first = await spawn(spawner, { path: own, name: 'worker', ...harnessCaps });
      assert.deepEqual(first, { ok: id('worker', S) });
      assert.deepEqual(await spawn(spawner, { path: own, name: 'worker', ...harnessCaps }), { ok: id('worker', S) });
      const inbox = await c.driver('worker', S).inbox();
      assert.ok(
        inbox.some((m) => m.request?.source === `fake.dev@${KERNEL}` && m.request.body === 'run'),
        JSON.stringify(inbox),
      );
    });

    it("reads the wasm through the VFS as the parent: another package's drive with a read capability, not without", async () => {
      assert.deepEqual(await spawn(spawner, { path: `/${F}:${PUBLISHER}/pkg/driver.wasm`, name: 'from-files' }), { ok: id('from-files', S) });
      assert.deepEqual(await spawn(id('open', K), { path: `/${F}:${PUBLISHER}/pkg/driver.wasm`, name: 'x' }), { err: 'no-file-at-path' });
      // issue 19 E2: the path is normalised first, then checked
      assert.deepEqual(await spawn(id('open', K), { path: `/${K}:${PUBLISHER}/pkg/../../${F}:${PUBLISHER}/pkg/driver.wasm`, name: 'y' }), {
        err: 'no-file-at-path',
      });
      // without vfs's messaging capability the read itself is refused
      assert.deepEqual(await spawn(id('answerer', K), { path: `/${K}:${PUBLISHER}/pkg/driver.wasm` }), { err: 'no-file-at-path' });
    });

    it('passes on only the requested capabilities the parent holds; parent and child may message each other', async () => {
      const kv = { issuer: 'fake.dev@kv:distro:sys', params: '"messaging"' };
      assert.deepEqual(await spawn(spawner, { path: own, name: 'capped', ...harnessCaps, requestCaps: [...harnessCaps.requestCaps, kv] }), { ok: id('capped', S) });
      const caps = await c.driver('capped', S).capabilities();
      assert.ok(caps.some((x) => x.issuer === `fake.dev@${HTTP}` && x.params === '"messaging"'));
      assert.ok(!caps.some((x) => x.issuer === kv.issuer), 'kv was not passed on: the spawner does not hold it');
      assert.ok(caps.some((x) => x.issuer === `fake.dev@${spawner}` && x.params === '"messaging"'), 'the child may message its parent');
    });

    it('returns Ok for a wasm that does not compile, and the child is gone', async () => {
      assert.deepEqual(await spawn(spawner, { path: `/${F}:${PUBLISHER}/pkg/broken.wasm`, name: 'broken' }), { ok: id('broken', S) });
      assert.deepEqual(await kernelDebug(c, id('broken', S)), { Debug: { Process: null } });
    });

    it('traps the parent on an invalid name; a caller waiting on the HTTP side hears why at once (beyond Hyperdrive)', async () => {
      await assert.rejects(spawn(spawner, { path: own, name: 'Not_Valid' }), (e: SendErrorException) => {
        assert.equal(e.code, 'died');
        assert.match(e.message, /ended with an error before answering: .*not a valid process name/);
        return true;
      });
    });
  });

  // Beyond Hyperdrive: a package may run at most maxProcessesPerPackage processes (6 here).
  it('refuses a spawn past the per-package process limit, naming the limit on the terminal', async () => {
    const spawner = id('spawner', Q);
    const results: Array<{ ok?: string; err?: string }> = [];
    for (let i = 0; i < 6; i++)
      results.push((await command(c, spawner, { Spawn: { name: `w${i}`, path: `/${Q}:${PUBLISHER}/pkg/driver.wasm`, onExit: 'None' } })) as { ok?: string });
    assert.deepEqual(
      results.map((r) => Object.keys(r)[0]),
      ['ok', 'ok', 'ok', 'ok', 'ok', 'err'],
    );
    assert.deepEqual(results[5], { err: 'no-file-at-path' });
    assert.ok(term.lines.some((l) => l.includes(`cannot spawn w5:${Q}:${PUBLISHER}`) && l.includes('KIT_MAX_PROCESSES_PER_PACKAGE')), term.lines.join('\n'));
  });

  describe('the Kernel API (hyperdrive/src/kernel/mod.rs handle_kernel_request)', () => {
    it('answers InitializeProcess of an id that exists with InitializeProcessError', async () => {
      const body = {
        InitializeProcess: {
          id: id('answerer', K),
          wasm_bytes_handle: `/${K}:${PUBLISHER}/pkg/driver.wasm`,
          wit_version: 1,
          on_exit: 'None',
          initial_capabilities: [],
          public: false,
        },
      };
      assert.equal((await c.driver('open', K).answer(KERNEL, body, { blob: 'bytes' })).body, '"InitializeProcessError"');
    });

    it('answers RunProcess of a running process with StartedProcess, and sends it a "run" Request', async () => {
      await c.driver('answerer', K).inbox();
      assert.equal((await c.driver('open', K).answer(KERNEL, { RunProcess: id('answerer', K) })).body, '"StartedProcess"');
      const inbox = await c.driver('answerer', K).inbox();
      assert.ok(inbox.some((m) => m.request?.source === `fake.dev@${KERNEL}` && m.request.body === 'run'), JSON.stringify(inbox));
    });
  });

  // kernel/process.rs: KillProcess (no-revoke), back-off, InitializeProcess + RunProcess again.
  it('keeps a crash-looping process out of the process map during its back-off; Requests to it fail with Timeout', async () => {
    const looper = id('looper', K);
    await assert.rejects(command(c, looper, { CrashLoop: true }), (e: SendErrorException) => e.code === 'died');
    // Each start counts itself in its state and crashes at once: back-offs of 2, 4, 8, then 16 s.
    const state = new FileStateStore(c.node.home);
    for (;;) {
      const s = state.get(looper);
      if (s && Number(fromUtf8(s).slice('crash:'.length)) >= 5) break;
      await sleep(200);
    }
    // It counted its fifth start and crashes: from now on it waits out 16 s or more.
    while (JSON.stringify(await kernelDebug(c, looper)) !== JSON.stringify({ Debug: { Process: null } })) await sleep(50);
    // open holds looper's capability (issued before the crashes, not revoked): the Request fails
    // because looper is absent.
    assert.deepEqual(await c.driver('open', K).send(looper, 'are you there', { timeout: 30 }), {
      sendError: { kind: 'timeout', target: `fake.dev@${looper}` },
    });
    await c.node.kernel.request(systemProcess('http-server'), KERNEL, JSON.stringify({ KillProcess: looper }), { timeoutSecs: 5 }).catch(() => {});
  });
});

// hyperdrive/src/net/ws/utils.rs: a message whose serialised size exceeds 10,485,800 bytes is
// dropped by net (with a loud line) and its sender times out; it never traps the sender.
describe('conformance: kernel, a message over the network limit', { timeout: 600_000 }, () => {
  let a: ConformanceNode;
  let b: ConformanceNode;
  const term = terminalLines();
  const pkg = { name: 'knet', processes: [{ name: 'driver', request_networking: true, request_capabilities: [HTTP], grant_capabilities: [HTTP] }] };

  before(async () => {
    a = await bootConformanceNode([pkg], { name: 'a.dev', terminal: { input: null, output: term.output } });
    b = await bootConformanceNode([pkg], { name: 'b.dev' });
    // Tell each net where the other is, as hns-indexer would.
    const MESH = parseProcessId('mesh:kit-tests:sys');
    for (const n of [a, b]) {
      await (n.node.kernel as Kernel).addNative({ id: MESH, handle: () => {} }, [
        netRootCap(n.node.name),
        messagingCap({ node: n.node.name, process: systemProcess('net') }),
      ]);
      for (const about of [a, b])
        n.node.kernel.tell(
          MESH,
          'our@net:distro:sys',
          encodeHnsUpdate({ name: about.node.name, publicKey: about.node.net.publicKeyHex, ips: ['127.0.0.1'], ports: { ws: about.node.net.port }, routers: [] }),
        );
    }
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
  });

  it('drops it, the sender gets a Timeout and goes on', async () => {
    const target = `b.dev@${id('driver', 'knet')}`;
    await command(b, id('driver', 'knet'), { AnswerWith: 'small one arrived' });
    assert.deepEqual(await command(a, id('driver', 'knet'), { SendBig: { target, bytes: 10_485_801, timeout: 3 } }), { sendError: { kind: 'timeout', target } });
    assert.ok(term.lines.some((l) => l.includes('net: tried to send too-large message')), term.lines.join('\n'));
    assert.equal((await a.driver('driver', 'knet').answer(target, 'small', { timeout: 30 })).body, 'small one arrived');
  });
});
