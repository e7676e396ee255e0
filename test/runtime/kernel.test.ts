// Kernel routing, capabilities, timeouts, on-exit and the Kernel API, with a scripted stand-in
// for the component host (the real host is exercised in the end-to-end tests).

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { SendErrorException } from '../../src/runtime/kernel/api.js';
import {
  type ExitReason,
  Kernel,
  type ProcessEvents,
  type ProcessRunner,
  type RunningProcess,
} from '../../src/runtime/kernel/kernel.js';
import { FileProcessStore } from '../../src/runtime/kernel/persistence.js';
import { RestartBackoff } from '../../src/runtime/kernel/restart.js';
import { createLogger } from '../../src/core/log.js';
import { FileStateStore } from '../../src/runtime/modules/state.js';
import {
  type Address,
  fromUtf8,
  type KernelMessage,
  messagingCap,
  parseProcessId,
  processIdToString,
  type SendError,
  systemProcess,
  utf8,
} from '../../src/core/types.js';

class FakeProcess implements RunningProcess {
  inbox: KernelMessage[] = [];
  errors: Array<{ id: bigint; error: SendError; context?: Uint8Array }> = [];
  killed = false;
  constructor(readonly events: ProcessEvents) {}
  deliver(km: KernelMessage): void {
    this.inbox.push(km);
  }
  deliverSendError(id: bigint, error: SendError, context: Uint8Array | undefined): void {
    this.errors.push({ id, error, context });
  }
  async kill(): Promise<void> {
    this.killed = true;
    this.events.onExit({ kind: 'killed' });
  }
}

class FakeRunner implements ProcessRunner {
  procs = new Map<string, FakeProcess>();
  starts = 0;
  async start(o: { id: Parameters<typeof processIdToString>[0]; events: ProcessEvents }): Promise<RunningProcess> {
    this.starts++;
    const p = new FakeProcess(o.events);
    this.procs.set(processIdToString(o.id), p);
    return p;
  }
  get(id: string): FakeProcess {
    const p = this.procs.get(id);
    assert.ok(p, `${id} was started`);
    return p;
  }
}

const OUR = 'fake.dev';
const log = createLogger({ terminal: null, file: null });
const APP = systemProcess('main', 'app-store', 'sys');
const kernelAddr: Address = { node: OUR, process: systemProcess('kernel') };
const tick = () => new Promise((r) => setTimeout(r, 5));

describe('kernel', () => {
  let home: string;
  let runner: FakeRunner;
  let kernel: Kernel;
  let printed: string[];

  beforeEach(async () => {
    home = mkdtempSync(join(tmpdir(), 'kit-kernel-'));
    runner = new FakeRunner();
    printed = [];
    kernel = new Kernel({
      our: OUR,
      home,
      log,
      runner,
      state: new FileStateStore(home),
      store: new FileProcessStore(home),
      readWasm: async () => new Uint8Array([0, 97, 115, 109]),
      print: (_v, t) => printed.push(t),
    });
    // A native installer with the kernel's messaging capability, like the app store.
    await kernel.addNative({ id: APP, handle: () => {} }, [messagingCap(kernelAddr)]);
  });

  afterEach(async () => {
    await kernel.shutdown();
    rmSync(home, { recursive: true, force: true });
  });

  async function install(name: string, opts: { public?: boolean; onExit?: unknown; caps?: unknown[] } = {}) {
    const id = `${name}:pkg:pub.os`;
    const init = await kernel.request(
      APP,
      'our@kernel:distro:sys',
      JSON.stringify({
        InitializeProcess: {
          id,
          wasm_bytes_handle: `/pkg:pub.os/pkg/${name}.wasm`,
          wit_version: 1,
          on_exit: opts.onExit ?? 'Restart',
          initial_capabilities: opts.caps ?? [],
          public: opts.public ?? false,
        },
      }),
      { blob: { bytes: new Uint8Array([0, 97, 115, 109]) } },
    );
    assert.equal(fromUtf8(init.response.body), '"InitializedProcess"');
    const run = await kernel.request(APP, 'our@kernel:distro:sys', JSON.stringify({ RunProcess: id }));
    assert.equal(fromUtf8(run.response.body), '"StartedProcess"');
    return id;
  }

  function requestFrom(src: string, target: string, body: string, expects?: number, extra: Partial<KernelMessage> = {}): KernelMessage {
    return {
      id: 42n,
      source: { node: OUR, process: parseProcessId(src) },
      target: { node: OUR, process: parseProcessId(target) },
      rsvp: expects === undefined ? undefined : { node: OUR, process: parseProcessId(src) },
      message: {
        tag: 'request',
        val: { inherit: false, expectsResponse: expects === undefined ? undefined : BigInt(expects), body: utf8(body), capabilities: [] },
      },
      ...extra,
    };
  }

  it('installs and runs a process through the Kernel API, and the installer may message it', async () => {
    const id = await install('echo');
    const reply = kernel.request(APP, `our@${id}`, 'hi', { timeoutSecs: 5 });
    await tick();
    const echo = runner.get(id);
    assert.equal(fromUtf8(echo.inbox[0].message.tag === 'request' ? echo.inbox[0].message.val.body : new Uint8Array()), 'hi');
    echo.events.onSend(
      {
        id: echo.inbox[0].id,
        source: { node: OUR, process: parseProcessId(id) },
        target: echo.inbox[0].rsvp!,
        message: { tag: 'response', val: [{ inherit: false, body: utf8('hi back'), capabilities: [] }, undefined] },
      },
      undefined,
    );
    assert.equal(fromUtf8((await reply).response.body), 'hi back');
  });

  it('refuses a Request without a messaging capability, and answers the sender with a Timeout at once', async () => {
    const a = await install('a');
    const b = await install('b');
    runner.get(a).events.onSend(requestFrom(a, b, 'let me in', 30), utf8('ctx'));
    assert.equal(runner.get(b).inbox.length, 0, 'not delivered');
    const [err] = runner.get(a).errors;
    assert.equal(err.error.kind, 'timeout');
    assert.deepEqual(err.context, utf8('ctx'));
  });

  it('delivers to a public process without a capability', async () => {
    const a = await install('a');
    const b = await install('b', { public: true });
    runner.get(a).events.onSend(requestFrom(a, b, 'hello'), undefined);
    assert.equal(runner.get(b).inbox.length, 1);
  });

  it('returns an unanswered Request as a Timeout with its context when expects_response runs out', async () => {
    const a = await install('a', { caps: [{ issuer: `${OUR}@b:pkg:pub.os`, params: '"messaging"' }] });
    const b = await install('b', { public: true });
    runner.get(a).events.onSend(requestFrom(a, b, 'slow', 1), utf8('my-context'));
    assert.equal(runner.get(b).inbox.length, 1);
    await new Promise((r) => setTimeout(r, 1100));
    const [err] = runner.get(a).errors;
    assert.equal(err.error.kind, 'timeout');
    assert.equal(err.id, 42n);
    assert.deepEqual(err.context, utf8('my-context'));
  });

  it('delivers a Response with the saved context and drops late or unsolicited ones', async () => {
    const a = await install('a');
    const b = await install('b', { public: true });
    runner.get(a).events.onSend(requestFrom(a, b, 'q', 5), utf8('ctx-1'));
    const resp = (id: bigint): KernelMessage => ({
      id,
      source: { node: OUR, process: parseProcessId(b) },
      target: { node: OUR, process: parseProcessId(a) },
      message: { tag: 'response', val: [{ inherit: false, body: utf8('r'), capabilities: [] }, undefined] },
    });
    runner.get(b).events.onSend(resp(42n), undefined);
    runner.get(b).events.onSend(resp(42n), undefined); // a second answer is late
    runner.get(b).events.onSend(resp(7n), undefined); // never asked
    const inbox = runner.get(a).inbox;
    assert.equal(inbox.length, 1);
    assert.equal(inbox[0].message.tag, 'response');
    assert.deepEqual(inbox[0].message.tag === 'response' && inbox[0].message.val[1], utf8('ctx-1'));
  });

  it('routes the Response of an inherited Request to the original requester', async () => {
    const a = await install('a');
    const mid = await install('mid', { public: true });
    const c = await install('c', { public: true });
    runner.get(a).events.onSend(requestFrom(a, mid, 'start', 5), undefined);
    const got = runner.get(mid).inbox[0];
    // mid passes it on: inherit, same id, the original rsvp, no expects_response of its own.
    runner.get(mid).events.onSend(
      { ...requestFrom(mid, c, 'forwarded'), id: got.id, rsvp: got.rsvp },
      undefined,
    );
    const atC = runner.get(c).inbox[0];
    runner.get(c).events.onSend(
      {
        id: atC.id,
        source: { node: OUR, process: parseProcessId(c) },
        target: atC.rsvp ?? atC.source,
        message: { tag: 'response', val: [{ inherit: false, body: utf8('from c'), capabilities: [] }, undefined] },
      },
      undefined,
    );
    const back = runner.get(a).inbox[0];
    assert.equal(processIdToString(back.source.process), c);
    assert.equal(back.message.tag, 'response');
  });

  it('drops capabilities a sender neither holds nor issued, and only lets a receiver save what it was given', async () => {
    const a = await install('a');
    const b = await install('b', { public: true });
    const forged = { issuer: { node: OUR, process: systemProcess('vfs') }, params: '{"root":true}' };
    const own = { issuer: { node: OUR, process: parseProcessId(a) }, params: '"messaging"' };
    const km = requestFrom(a, b, 'caps');
    if (km.message.tag === 'request') km.message.val.capabilities = [forged, own];
    runner.get(a).events.onSend(km, undefined);
    const got = runner.get(b).inbox[0];
    assert.deepEqual(got.message.tag === 'request' && got.message.val.capabilities, [own]);
    await runner.get(b).events.onCall('save-capabilities', [[forged, own]]);
    const caps = (await runner.get(b).events.onCall('our-capabilities', [])) as Array<{ params: string; issuer: Address }>;
    assert.ok(caps.some((c) => c.params === '"messaging"' && processIdToString(c.issuer.process) === a), 'saved the given cap');
    assert.ok(!caps.some((c) => c.params === '{"root":true}'), 'the forged cap was not saved');
  });

  it('keeps state across calls and on disk', async () => {
    const a = await install('a');
    await runner.get(a).events.onCall('set-state', [utf8('v1')]);
    assert.deepEqual(await runner.get(a).events.onCall('get-state', []), utf8('v1'));
    assert.deepEqual(new FileStateStore(home).get(a), utf8('v1'));
    await runner.get(a).events.onCall('clear-state', []);
    assert.equal(await runner.get(a).events.onCall('get-state', []), undefined);
  });

  it('restarts a crashed Restart process at once, and not after KillProcess', async () => {
    const a = await install('a');
    runner.get(a).events.onExit({ kind: 'error', message: 'boom' } as ExitReason);
    await tick();
    assert.equal(runner.starts, 2, 'restarted');
    assert.ok(printed.some((l) => l.includes('ended with error') && l.includes('boom')));
    const killed = await kernel.request(APP, 'our@kernel:distro:sys', JSON.stringify({ KillProcess: a }));
    assert.deepEqual(JSON.parse(fromUtf8(killed.response.body)), { KilledProcess: a });
    await tick();
    assert.equal(runner.starts, 2, 'not restarted after KillProcess');
    assert.equal(kernel.has(a), false);
  });

  it('fires OnExit Requests from the exiting process and removes it', async () => {
    const b = await install('b', { public: true });
    const a = await install('a', {
      onExit: {
        Requests: [[`${OUR}@${b}`, { inherit: false, expects_response: null, body: [...utf8('bye')], metadata: null, capabilities: [] }, null]],
      },
    });
    runner.get(a).events.onExit({ kind: 'returned' });
    const got = runner.get(b).inbox[0];
    assert.equal(processIdToString(got.source.process), a);
    assert.equal(got.message.tag === 'request' && fromUtf8(got.message.val.body), 'bye');
    assert.equal(kernel.has(a), false);
  });

  it('spawns a child with a random name and the caps the parent holds', async () => {
    const a = await install('a');
    const child = (await runner.get(a).events.onCall('spawn', [
      undefined,
      '/pkg:pub.os/pkg/worker.wasm',
      { tag: 'none' },
      [],
      [],
      false,
    ])) as { processName: string };
    assert.match(child.processName, /^\d+$/);
    const childKey = `${child.processName}:pkg:pub.os`;
    assert.ok(kernel.has(childKey));
    await assert.rejects(
      Promise.resolve(runner.get(a).events.onCall('spawn', [child.processName, '/pkg:pub.os/pkg/worker.wasm', { tag: 'none' }, [], [], false])),
      (e: { payload?: string }) => e.payload === 'name-taken',
    );
    await assert.rejects(
      Promise.resolve(runner.get(a).events.onCall('spawn', ['x', '/other:pub.os/pkg/worker.wasm', { tag: 'none' }, [], [], false])),
      (e: { payload?: string }) => e.payload === 'no-file-at-path',
    );
    // parent and child may message each other
    runner.get(a).events.onSend(requestFrom(a, childKey, 'work'), undefined);
    assert.equal(runner.get(childKey).inbox.length, 1);
  });

  it('answers a native request at once when the target does not exist', async () => {
    await assert.rejects(kernel.request(APP, 'our@nope:pkg:pub.os', 'x'), (e: SendErrorException) => {
      assert.equal(e.code, 'not-found');
      assert.match(e.message, /nope:pkg:pub\.os not found/);
      return true;
    });
  });

  it('refuses messages over 10 MB for the network, and carries them locally', async () => {
    const a = await install('a', { public: true });
    await assert.rejects(
      kernel.request(APP, 'other.dev@a:pkg:pub.os', 'big', { blob: { bytes: new Uint8Array(10 * 1024 * 1024 + 1) } }),
      (e: SendErrorException) => e.code === 'too-large' && /network limit/.test(e.message),
    );
    kernel.tell(APP, `our@${a}`, 'big', { blob: { bytes: new Uint8Array(12 * 1024 * 1024) } });
    assert.equal(runner.get(a).inbox[0].lazyLoadBlob?.bytes.length, 12 * 1024 * 1024);
  });

  it('persists the process map and restores it on a new kernel', async () => {
    const a = await install('a');
    kernel.tell(
      APP,
      'our@kernel:distro:sys',
      JSON.stringify({ GrantCapabilities: { target: a, capabilities: [{ issuer: `${OUR}@b:pkg:pub.os`, params: '"messaging"' }] } }),
    );
    await tick();
    await kernel.shutdown();
    const runner2 = new FakeRunner();
    const k2 = new Kernel({
      our: OUR,
      home,
      log,
      runner: runner2,
      state: new FileStateStore(home),
      store: new FileProcessStore(home),
      readWasm: async () => new Uint8Array([0, 97, 115, 109]),
    });
    // A module granted a capability before the restore (a write) must not lose what was saved.
    await k2.addNative({ id: systemProcess('eth'), handle: () => {} });
    k2.grant(systemProcess('eth'), [messagingCap({ node: OUR, process: parseProcessId(a) })]);
    // ...and a module's own saved capabilities come back even if it was granted others at boot.
    await k2.addNative({ id: APP, handle: () => {} }, [messagingCap(kernelAddr)]);
    k2.grant(APP, [messagingCap({ node: OUR, process: systemProcess('timer') })]);
    await tick();
    await k2.restore();
    assert.ok(k2.has(a));
    assert.ok(runner2.procs.has(a), 'restarted on reboot');
    assert.ok(k2.hasCapability(APP, messagingCap({ node: OUR, process: parseProcessId(a) })), 'the installer keeps its cap to a');
    assert.ok(k2.hasCapability(parseProcessId(a), messagingCap({ node: OUR, process: parseProcessId('b:pkg:pub.os') })));
    await k2.shutdown();
  });

  it('answers Debug ProcessMap and HasCap', async () => {
    const a = await install('a');
    const r = await kernel.request(APP, 'our@kernel:distro:sys', '{"Debug":"ProcessMap"}');
    const map = JSON.parse(fromUtf8(r.response.body)).Debug.ProcessMap;
    assert.equal(map[a].wasm_bytes_handle, '/pkg:pub.os/pkg/a.wasm');
    assert.equal(map[a].on_exit, 'Restart');
    const h = await kernel.request(
      APP,
      'our@kernel:distro:sys',
      JSON.stringify({ Debug: { HasCap: { on: a, cap: { issuer: `${OUR}@${a}`, params: '"messaging"' } } } }),
    );
    assert.deepEqual(JSON.parse(fromUtf8(h.response.body)), { Debug: { HasCap: true } });
  });
});

describe('restart back-off', () => {
  it('restarts at once, then waits 2 s, 4 s ... up to 10 min, and resets after a healthy run', () => {
    let now = 0;
    const b = new RestartBackoff(() => now);
    b.started();
    assert.equal(b.nextDelayMs(), 0);
    const delays: number[] = [];
    for (let i = 0; i < 12; i++) {
      b.started();
      delays.push(b.nextDelayMs());
    }
    assert.deepEqual(delays.slice(0, 4), [2000, 4000, 8000, 16000]);
    assert.equal(Math.max(...delays), 600_000);
    b.started();
    now += 600_000 * 5; // a healthy run
    assert.equal(b.nextDelayMs(), 0);
  });
});
