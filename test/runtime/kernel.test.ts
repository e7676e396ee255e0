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
import { defaultLimits } from '../../src/runtime/kernel/limits.js';
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
  /** What backlog() reports: how full its mailbox looks to the kernel. */
  waiting = { messages: 0, bytes: 0 };
  constructor(readonly events: ProcessEvents) {}
  backlog(): { messages: number; bytes: number } {
    return this.waiting;
  }
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
// Lets pending promise chains settle (setImmediate: the restart test mocks setTimeout).
const tick = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

describe('kernel', () => {
  let home: string;
  let runner: FakeRunner;
  let kernel: Kernel;
  let printed: string[];
  let clock: number;
  let shutdowns: number;

  beforeEach(async () => {
    shutdowns = 0;
    home = mkdtempSync(join(tmpdir(), 'kit-kernel-'));
    runner = new FakeRunner();
    printed = [];
    clock = 1_000_000;
    kernel = new Kernel({
      now: () => clock,
      limits: { ...defaultLimits(), maxProcesses: 8, maxProcessesPerPackage: 6, mailboxMessages: 3, mailboxBytes: 1024 * 1024 },
      onShutdownRequested: () => shutdowns++,
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

  /** `holder` may message `issuer` (and so answer it): a messaging capability issued by `issuer`. */
  function grant(holder: string, issuer: string): void {
    kernel.grant(parseProcessId(holder), [messagingCap({ node: OUR, process: parseProcessId(issuer) })]);
  }

  function responseTo(km: KernelMessage, from: string, body: string): KernelMessage {
    return {
      id: km.id,
      source: { node: OUR, process: parseProcessId(from) },
      target: km.rsvp ?? km.source,
      message: { tag: 'response', val: [{ inherit: false, body: utf8(body), capabilities: [] }, undefined] },
    };
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
    grant(id, processIdToString(APP)); // so that its Response may reach the installer
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

  // hyperdrive/src/kernel/mod.rs: the local capability check has no Request filter.
  it('drops a Response whose responder holds no capability from the requester, and says which grant is missing once', async () => {
    const a = await install('a');
    const b = await install('b', { public: true });
    runner.get(a).events.onSend(requestFrom(a, b, 'q', 30), utf8('ctx'));
    const q = runner.get(b).inbox[0];
    runner.get(b).events.onSend(responseTo(q, b, 'r'), undefined);
    assert.equal(runner.get(a).inbox.length, 0, 'the Response was dropped');
    assert.equal(runner.get(a).errors.length, 0, 'a process keeps waiting until its timeout, as on Hyperdrive');
    const hint = `${a} did not get a Response from ${b}: add "${b}" to its grant_capabilities in pkg/manifest.json`;
    assert.ok(printed.includes(hint), printed.join('\n'));
    // a second drop for the same pair prints nothing more
    runner.get(a).events.onSend({ ...requestFrom(a, b, 'q2', 30), id: 43n }, undefined);
    runner.get(b).events.onSend(responseTo(runner.get(b).inbox[1], b, 'r2'), undefined);
    assert.equal(printed.filter((l) => l === hint).length, 1);
    // once granted, Responses pass
    grant(b, a);
    runner.get(a).events.onSend({ ...requestFrom(a, b, 'q3', 30), id: 44n }, undefined);
    runner.get(b).events.onSend(responseTo(runner.get(b).inbox[2], b, 'r3'), undefined);
    assert.equal(runner.get(a).inbox.length, 1);
  });

  it('answers a native waiter at once when the Response is dropped for want of a capability', async () => {
    const a = await install('a');
    const reply = kernel.request(APP, `our@${a}`, 'q', { timeoutSecs: 30 });
    runner.get(a).events.onSend(responseTo(runner.get(a).inbox[0], a, 'r'), undefined);
    await assert.rejects(reply, (e: SendErrorException) => {
      assert.equal(e.code, 'no-capability');
      assert.equal(e.sendError.kind, 'timeout');
      assert.match(e.message, /main:app-store:sys did not get a Response from a:pkg:pub\.os: add "main:app-store:sys" to the request_capabilities of a/);
      return true;
    });
  });

  it("refuses a runtime module's Request (an eth subscription update) to a process that did not grant it, and says so once", async () => {
    const a = await install('a');
    const ETH = systemProcess('eth');
    await kernel.addNative({ id: ETH, handle: () => {} });
    kernel.tell(ETH, `our@${a}`, '{"EthSub":{}}');
    kernel.tell(ETH, `our@${a}`, '{"EthSub":{}}');
    assert.equal(runner.get(a).inbox.length, 0);
    const hint = `${a} did not get a Request from eth:distro:sys: add "eth:distro:sys" to its grant_capabilities in pkg/manifest.json`;
    assert.equal(printed.filter((l) => l === hint).length, 1, printed.join('\n'));
    grant(processIdToString(ETH), a);
    kernel.tell(ETH, `our@${a}`, '{"EthSub":{}}');
    assert.equal(runner.get(a).inbox.length, 1);
  });

  it('lets kernel, state and vfs answer anyone, and anyone answer a public process', async () => {
    const a = await install('a');
    await kernel.addNative({ id: systemProcess('vfs'), handle: (km) => kernel.respond(systemProcess('vfs'), km, '"Read"') });
    grant(a, 'vfs:distro:sys');
    runner.get(a).events.onSend({ ...requestFrom(a, 'vfs:distro:sys', '{}', 5) }, undefined);
    await tick();
    assert.equal(runner.get(a).inbox.length, 1, 'vfs needs no capability to answer');
    const pub = await install('pub', { public: true });
    grant(pub, a);
    runner.get(pub).events.onSend(requestFrom(pub, a, 'q', 5), undefined);
    runner.get(a).events.onSend(responseTo(runner.get(a).inbox[1], a, 'r'), undefined);
    assert.equal(runner.get(pub).inbox.length, 1, 'a public requester gets every answer');
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
    grant(b, a);
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
    grant(c, a);
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

  it('drops attached capabilities a sender neither holds nor issued; a process may save any capability', async () => {
    const a = await install('a');
    const b = await install('b', { public: true });
    const forged = { issuer: { node: OUR, process: systemProcess('vfs') }, params: '{"root":true}' };
    const own = { issuer: { node: OUR, process: parseProcessId(a) }, params: '"messaging"' };
    const km = requestFrom(a, b, 'caps');
    if (km.message.tag === 'request') km.message.val.capabilities = [forged, own];
    runner.get(a).events.onSend(km, undefined);
    const got = runner.get(b).inbox[0];
    assert.deepEqual(got.message.tag === 'request' && got.message.val.capabilities, [own]);
    // standard_host_v1.rs save_capabilities: CapMessage::Add of whatever it is given
    await runner.get(b).events.onCall('save-capabilities', [[forged, own]]);
    const caps = (await runner.get(b).events.onCall('our-capabilities', [])) as Array<{ params: string; issuer: Address }>;
    assert.ok(caps.some((c) => c.params === '"messaging"' && processIdToString(c.issuer.process) === a), 'saved the given cap');
    assert.ok(caps.some((c) => c.params === '{"root":true}'), 'saved the constructed cap too');
  });

  it('keeps state across calls and on disk', async () => {
    const a = await install('a');
    await runner.get(a).events.onCall('set-state', [utf8('v1')]);
    assert.deepEqual(await runner.get(a).events.onCall('get-state', []), utf8('v1'));
    assert.deepEqual(new FileStateStore(home).get(a), utf8('v1'));
    await runner.get(a).events.onCall('clear-state', []);
    assert.equal(await runner.get(a).events.onCall('get-state', []), undefined);
  });

  // hyperdrive/src/kernel/process.rs: KillProcess (no-revoke), then InitializeProcess + RunProcess
  // after the back-off; the first start is attempt 1.
  it('keeps a process that crashed within 5 s absent for 2 s, failing Requests to it at once, then restarts it', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const a = await install('a');
    const b = await install('b', { public: true });
    grant(b, a); // b may message a
    runner.get(a).events.onExit({ kind: 'error', message: 'boom' } as ExitReason);
    assert.ok(printed.some((l) => l.includes('ended with error') && l.includes('boom')));
    assert.ok(printed.includes(`kernel: restarting ${a} in 2 s`), printed.join('\n'));
    assert.equal(kernel.has(a), false, 'absent during the back-off');
    runner.get(b).events.onSend(requestFrom(b, a, 'are you there', 30), undefined);
    assert.equal(runner.get(b).errors[0]?.error.kind, 'timeout', 'a Request to it fails at once');
    await assert.rejects(kernel.request(APP, `our@${a}`, 'x'), (e: SendErrorException) => e.code === 'not-found' && /crashed and restarts in 2 s/.test(e.message));
    t.mock.timers.tick(2000);
    await tick();
    assert.equal(runner.starts, 3, 'restarted after the back-off');
    assert.ok(kernel.hasCapability(parseProcessId(b), messagingCap({ node: OUR, process: parseProcessId(a) })), 'what it issued was not revoked');
  });

  it('restarts a process at once after a healthy run, and never after KillProcess', async () => {
    const a = await install('a');
    clock += 5000; // ran 5 x the 1 s back-off: healthy
    runner.get(a).events.onExit({ kind: 'error', message: 'boom' } as ExitReason);
    await tick();
    assert.equal(runner.starts, 2, 'restarted at once');
    const killed = await kernel.request(APP, 'our@kernel:distro:sys', JSON.stringify({ KillProcess: a }));
    assert.deepEqual(JSON.parse(fromUtf8(killed.response.body)), { KilledProcess: a });
    await tick();
    assert.equal(runner.starts, 2, 'not restarted after KillProcess');
    assert.equal(kernel.has(a), false);
  });

  it('tells a native waiter at once when the process it asked dies before answering', async () => {
    const a = await install('a', { onExit: 'None' });
    const reply = kernel.request(APP, `our@${a}`, 'q', { timeoutSecs: 30 });
    await tick();
    runner.get(a).events.onExit({ kind: 'error', message: 'kaput' } as ExitReason);
    await assert.rejects(reply, (e: SendErrorException) => e.code === 'died' && /a:pkg:pub\.os ended with an error before answering: kaput/.test(e.message));
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

  describe('spawn, as hyperdrive/src/kernel/standard_host_v1.rs', () => {
    const VFS = systemProcess('vfs');
    const WORKER = '/pkg:pub.os/pkg/worker.wasm';
    let reads: string[];
    beforeEach(async () => {
      reads = [];
      // A VFS that has one file, and answers as the real one does.
      await kernel.addNative({
        id: VFS,
        handle: (km) => {
          if (km.message.tag !== 'request') return;
          const { path } = JSON.parse(fromUtf8(km.message.val.body)) as { path: string };
          reads.push(`${processIdToString(km.source.process)} ${path}`);
          if (path === WORKER) kernel.respond(VFS, km, '"Read"', { bytes: new Uint8Array([0, 97, 115, 109]) });
          else kernel.respond(VFS, km, '{"Err":{"IOError":"No such file or directory (os error 2)"}}');
        },
      });
    });
    const spawn = (parent: string, name: string | undefined, path = WORKER, requestCaps: unknown[] = [], grants: unknown[] = []) =>
      Promise.resolve(runner.get(parent).events.onCall('spawn', [name, path, { tag: 'none' }, requestCaps, grants, false]));

    it('reads the wasm through the VFS as the parent, gives a random name and only the caps the parent holds', async () => {
      const a = await install('a');
      grant(a, 'vfs:distro:sys');
      const held = messagingCap({ node: OUR, process: VFS });
      const notHeld = messagingCap({ node: OUR, process: systemProcess('kv') });
      const child = (await spawn(a, undefined, WORKER, [held, notHeld])) as { processName: string };
      assert.deepEqual(reads, [`${a} ${WORKER}`]);
      assert.match(child.processName, /^\d+$/);
      const childKey = `${child.processName}:pkg:pub.os`;
      assert.ok(kernel.hasCapability(parseProcessId(childKey), held));
      assert.ok(!kernel.hasCapability(parseProcessId(childKey), notHeld));
      // parent and child may message each other
      runner.get(a).events.onSend(requestFrom(a, childKey, 'work'), undefined);
      assert.equal(runner.get(childKey).inbox.length, 1);
      runner.get(childKey).events.onSend(requestFrom(childKey, a, 'done'), undefined);
      assert.equal(runner.get(a).inbox.length, 1);
    });

    it('returns Ok(the existing id) for a taken name, which gets a stray "run" Request', async () => {
      const a = await install('a');
      grant(a, 'vfs:distro:sys');
      const first = await spawn(a, 'worker');
      const again = await spawn(a, 'worker');
      assert.deepEqual(again, first);
      assert.equal(runner.starts, 2, 'not started twice');
      const run = runner.get('worker:pkg:pub.os').inbox.at(-1);
      assert.equal(run && processIdToString(run.source.process), 'kernel:distro:sys');
      assert.equal(run?.message.tag === 'request' && fromUtf8(run.message.val.body), 'run');
    });

    it('answers NoFileAtPath for a path the VFS will not read, or without the vfs capability', async () => {
      const a = await install('a');
      grant(a, 'vfs:distro:sys');
      await assert.rejects(spawn(a, 'x', '/other:pub.os/pkg/worker.wasm'), (e: { payload?: string }) => e.payload === 'no-file-at-path');
      const b = await install('b');
      await assert.rejects(spawn(b, 'x'), (e: { payload?: string }) => e.payload === 'no-file-at-path');
      assert.ok(!reads.some((r) => r.startsWith(b)), 'b may not message vfs');
    });

    it('traps the parent on an invalid name (an error with no SpawnError payload)', async () => {
      const a = await install('a');
      grant(a, 'vfs:distro:sys');
      await assert.rejects(spawn(a, 'Not_Valid'), (e: Error & { payload?: unknown }) => e.payload === undefined && /not a valid process name/.test(e.message));
    });
  });

  describe('the Kernel API edge cases (hyperdrive/src/kernel/mod.rs handle_kernel_request)', () => {
    it('answers InitializeProcess of an id that exists with InitializeProcessError, and leaves the process as it was', async () => {
      const a = await install('a');
      const again = await kernel.request(
        APP,
        'our@kernel:distro:sys',
        JSON.stringify({ InitializeProcess: { id: a, wasm_bytes_handle: '/x', on_exit: 'None', initial_capabilities: [], public: true } }),
        { blob: { bytes: new Uint8Array([1]) } },
      );
      assert.equal(fromUtf8(again.response.body), '"InitializeProcessError"');
      assert.ok(printed.some((l) => l.includes(`process with ID ${a} already exists`)));
      const map = JSON.parse(fromUtf8((await kernel.request(APP, 'our@kernel:distro:sys', '{"Debug":"ProcessMap"}')).response.body)).Debug.ProcessMap;
      assert.equal(map[a].public, false);
      assert.equal(map[a].on_exit, 'Restart');
    });

    it('answers RunProcess of a running process with StartedProcess and sends it a "run" Request', async () => {
      const a = await install('a');
      const run = await kernel.request(APP, 'our@kernel:distro:sys', JSON.stringify({ RunProcess: a }));
      assert.equal(fromUtf8(run.response.body), '"StartedProcess"');
      assert.equal(runner.starts, 1);
      const got = runner.get(a).inbox[0];
      assert.equal(processIdToString(got.source.process), 'kernel:distro:sys');
      assert.equal(got.message.tag === 'request' && fromUtf8(got.message.val.body), 'run');
      assert.equal(got.message.tag === 'request' && got.message.val.expectsResponse, undefined);
    });

    it('stops the node on Shutdown from a process holding the kernel capability', async () => {
      const a = await install('a');
      grant(a, 'kernel:distro:sys');
      runner.get(a).events.onSend(requestFrom(a, 'kernel:distro:sys', '"Shutdown"'), undefined);
      await tick();
      assert.equal(shutdowns, 1);
      assert.ok(printed.some((l) => l.includes(`${a} asked the node to shut down`)));
    });
  });

  describe('limits (beyond Hyperdrive)', () => {
    it('refuses InitializeProcess past the per-package and per-node process limits, saying which', async () => {
      for (let i = 0; i < 6; i++) await install(`p${i}`);
      const seventh = await kernel.request(
        APP,
        'our@kernel:distro:sys',
        JSON.stringify({ InitializeProcess: { id: 'p6:pkg:pub.os', wasm_bytes_handle: '/x', on_exit: 'None', initial_capabilities: [], public: false } }),
        { blob: { bytes: new Uint8Array([1]) } },
      );
      assert.equal(fromUtf8(seventh.response.body), '"InitializeProcessError"');
      assert.ok(printed.some((l) => l.includes('package pkg:pub.os already runs 6 processes') && l.includes('(--max-processes-per-package or KIT_MAX_PROCESSES_PER_PACKAGE raises it)')));
      const other = async (name: string) =>
        fromUtf8(
          (
            await kernel.request(
              APP,
              'our@kernel:distro:sys',
              JSON.stringify({ InitializeProcess: { id: `${name}:other:pub.os`, wasm_bytes_handle: '/x', on_exit: 'None', initial_capabilities: [], public: false } }),
              { blob: { bytes: new Uint8Array([1]) } },
            )
          ).response.body,
        );
      assert.equal(await other('q0'), '"InitializedProcess"');
      assert.equal(await other('q1'), '"InitializedProcess"');
      assert.equal(await other('q2'), '"InitializeProcessError"');
      assert.ok(printed.some((l) => l.includes('this node already runs 8 processes') && l.includes('(--max-processes or KIT_MAX_PROCESSES raises it)')));
    });

    it("refuses Requests to a process whose mailbox is full with a Timeout, says so once, and delivers again once it drains", async () => {
      const a = await install('a');
      const b = await install('b', { public: true });
      runner.get(b).waiting = { messages: 3, bytes: 0 };
      runner.get(a).events.onSend(requestFrom(a, b, 'one too many', 30), utf8('ctx'));
      assert.equal(runner.get(a).errors[0]?.error.kind, 'timeout', 'the sender hears at once');
      await assert.rejects(kernel.request(APP, `our@${b}`, 'x'), (e: SendErrorException) => e.code === 'mailbox-full' && /mailbox is full \(3 messages/.test(e.message));
      runner.get(a).events.onSend({ ...requestFrom(a, b, 'fire and forget'), id: 43n }, undefined);
      assert.equal(runner.get(b).inbox.length, 0);
      assert.equal(printed.filter((l) => l.includes('mailbox is full')).length, 1, 'said once');
      runner.get(b).waiting = { messages: 0, bytes: 2 * 1024 * 1024 };
      runner.get(a).events.onSend({ ...requestFrom(a, b, 'big backlog'), id: 44n }, undefined);
      assert.equal(runner.get(b).inbox.length, 0, 'full by bytes too');
      runner.get(b).waiting = { messages: 0, bytes: 0 };
      runner.get(a).events.onSend({ ...requestFrom(a, b, 'now'), id: 45n }, undefined);
      assert.equal(runner.get(b).inbox.length, 1);
    });

    it('lets Responses into a full mailbox (the process may be waiting for exactly that one)', async () => {
      const a = await install('a');
      const b = await install('b', { public: true });
      grant(b, a);
      runner.get(a).events.onSend(requestFrom(a, b, 'q', 30), undefined);
      runner.get(a).waiting = { messages: 3, bytes: 0 };
      runner.get(b).events.onSend(responseTo(runner.get(b).inbox[0], b, 'r'), undefined);
      assert.equal(runner.get(a).inbox.length, 1);
    });
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

  it("hands a process's oversized remote message to net, which drops it: no trap and no early error, as on Hyperdrive", async () => {
    const toNet: KernelMessage[] = [];
    await kernel.addNative({ id: systemProcess('net'), handle: (km) => void toNet.push(km) });
    const a = await install('a');
    kernel.grant(parseProcessId(a), [{ issuer: kernelAddr, params: '"network"' }]);
    const km = requestFrom(a, a, 'big', 5);
    km.target = { node: 'other.dev', process: parseProcessId(a) };
    km.lazyLoadBlob = { bytes: new Uint8Array(10_485_801) };
    runner.get(a).events.onSend(km, undefined);
    assert.equal(toNet.length, 1, "net's to drop (net/index.ts, as hyperdrive/src/net/ws/utils.rs)");
    assert.equal(runner.get(a).errors.length, 0, 'the sender waits for its timeout');
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
  // hyperdrive/src/kernel/process.rs: attempt 1 is the first run; 2^(n-1) s; 10 min cap; healthy = 5x.
  it('waits 2 s after a crash within 5 s of the first start, then 4 s, 8 s ... up to 10 min, and resets after a healthy run', () => {
    let now = 0;
    const b = new RestartBackoff(() => now);
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
    b.started();
    now += 4999; // under 5 x 1 s
    assert.equal(b.nextDelayMs(), 2000);
  });

  it('restarts at once a process that crashed after running 5 s', () => {
    let now = 0;
    const b = new RestartBackoff(() => now);
    b.started();
    now += 5000;
    assert.equal(b.nextDelayMs(), 0);
  });
});
