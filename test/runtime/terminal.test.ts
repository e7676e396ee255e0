// The node's terminal: lines typed on its input run commands through the real kernel, and
// printouts appear as `<Weekday> HH:MM <text>`.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { NativeProcess } from '../../src/runtime/kernel/api.js';
import { Kernel, type ProcessEvents, type ProcessRunner, type RunningProcess, type StateStore } from '../../src/runtime/kernel/kernel.js';
import type { StoredProcess } from '../../src/runtime/kernel/persistence.js';
import { createLogger } from '../../src/core/log.js';
import { createTerminal, type Terminal, TERMINAL_ID, tokenize } from '../../src/runtime/terminal/index.js';
import {
  fromUtf8,
  jsonBytes,
  type KernelMessage,
  messagingCap,
  NETWORK_PARAMS,
  type ProcessId,
  parseProcessId,
  processIdToString,
  systemProcess,
  utf8,
} from '../../src/core/types.js';

const OUR = 'fake.dev';
const log = createLogger({ terminal: null, file: null });
// A Monday, 09:05 local time.
const MONDAY = new Date(2024, 0, 1, 9, 5);

class MemoryState implements StateStore {
  private readonly m = new Map<string, Uint8Array>();
  get(id: string) {
    return this.m.get(id);
  }
  set(id: string, b: Uint8Array) {
    this.m.set(id, b);
  }
  delete(id: string) {
    this.m.delete(id);
  }
}

/** What the stand-in host delivered to the wasm processes it "runs". */
const delivered: Array<{ to: string; km: KernelMessage }> = [];

/** Stand-in for the component host: "runs" wasm processes that do nothing but record their messages. */
const idleRunner: ProcessRunner = {
  async start(o: { id: ProcessId; events: ProcessEvents }): Promise<RunningProcess> {
    return {
      deliver(km: KernelMessage) {
        delivered.push({ to: processIdToString(o.id), km });
      },
      deliverSendError() {},
      async kill() {
        o.events.onExit({ kind: 'killed' });
      },
    };
  },
};

async function waitFor(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
}

function recorder(id: string, answer?: (km: KernelMessage, k: Kernel) => void, isPublic = true) {
  const received: KernelMessage[] = [];
  let kernel: Kernel;
  const proc: NativeProcess & { received: KernelMessage[] } = {
    id: parseProcessId(id),
    isPublic,
    received,
    start(k) {
      kernel = k as Kernel;
    },
    handle(km) {
      received.push(km);
      answer?.(km, kernel);
    },
  };
  return proc;
}

describe('terminal', () => {
  let home: string;
  let kernel: Kernel;
  let input: PassThrough;
  let output: PassThrough;
  let printed: string;
  let exits: number;
  let terminal: Terminal;

  async function boot(verbosity = 0): Promise<void> {
    input = new PassThrough();
    output = new PassThrough();
    printed = '';
    output.on('data', (d: Buffer) => {
      printed += d.toString('utf8');
    });
    exits = 0;
    terminal = createTerminal({ kernel, input, output, verbosity, onExit: () => exits++, now: () => MONDAY });
    const caps = [
      ...['kernel', 'vfs', 'net'].map((m) => messagingCap({ node: OUR, process: systemProcess(m) })),
      { issuer: { node: OUR, process: systemProcess('kernel') }, params: NETWORK_PARAMS },
    ];
    kernel.setPrinter((v, t) => terminal.print(v, t));
    await kernel.addNative(terminal, caps);
  }

  beforeEach(async () => {
    home = mkdtempSync(join(tmpdir(), 'kit-terminal-'));
    kernel = new Kernel({ our: OUR, home, log, runner: idleRunner, state: new MemoryState(), readWasm: async () => undefined });
    await boot();
  });

  afterEach(async () => {
    terminal.close();
    await kernel.shutdown();
    rmSync(home, { recursive: true, force: true });
  });

  /** Type a line and wait until the output contains `expected`. */
  async function type(line: string, expected: string | RegExp): Promise<string> {
    const start = printed.length;
    input.write(`${line}\n`);
    for (let i = 0; i < 500; i++) {
      const got = printed.slice(start);
      if (typeof expected === 'string' ? got.includes(expected) : expected.test(got)) return got;
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.fail(`after typing ${JSON.stringify(line)} the terminal printed:\n${printed.slice(start)}\n(expected ${expected})`);
  }

  it('prints printouts as "<Weekday> HH:MM <text>", hiding those above its verbosity', () => {
    terminal.print(0, 'hello');
    terminal.print(1, 'debug detail');
    assert.equal(printed, 'Mon 09:05 hello\n');
    terminal.verbosity = 1;
    terminal.print(1, 'debug detail\nsecond line');
    assert.equal(printed, 'Mon 09:05 hello\nMon 09:05 debug detail\nsecond line\n');
  });

  it('echo prints its text as a terminal:sys printout', async () => {
    const out = await type('echo hello   world', 'hello');
    assert.equal(out, 'Mon 09:05 terminal:sys: hello   world\n');
  });

  it('m -a sends the body to the address and prints the response', async () => {
    const echo = recorder('echo:test:sys', (km, k) => k.respond(echo.id, km, `echo: ${fromUtf8((km.message.val as { body: Uint8Array }).body)}`));
    await kernel.addNative(echo);
    const out = await type(`m our@echo:test:sys '{"some payload": "value"}' -a 5`, 'echo: ');
    assert.match(out, /terminal:sys: Awaiting response for 5s\n/);
    assert.match(out, /terminal:sys: echo: \{"some payload": "value"\}\n/);
    const km = echo.received[0];
    // As Hyperdrive's m (terminal/m/src/lib.rs): a `<u64>:terminal:sys` script that attaches every
    // capability it holds (try_attach_all; m is a root script, so the terminal's).
    assert.match(km.source.process.processName, /^\d+$/);
    assert.equal(`${km.source.process.packageName}:${km.source.process.publisherNode}`, 'terminal:sys');
    assert.equal(km.target.node, OUR);
    const attached = (km.message.val as { capabilities: Array<{ issuer: { process: ProcessId }; params: string }> }).capabilities;
    assert.ok(
      attached.some((c) => c.issuer.process.processName === 'kernel' && c.params === NETWORK_PARAMS),
      'the terminal\'s network capability is attached',
    );
  });

  it('m without -a sends and prints nothing; m explains timeouts, offline nodes and bad addresses', async () => {
    const sink = recorder('sink:test:sys');
    await kernel.addNative(sink);
    input.write('m our@sink:test:sys hi\n');
    await waitFor(() => sink.received.length > 0);
    assert.equal(sink.received.length, 1);
    assert.equal(fromUtf8((sink.received[0].message.val as { body: Uint8Array }).body), 'hi');

    await type('m -a 1 our@sink:test:sys hi', 'Target did not send response in time, try increasing the await time');
    await type('m -a 5 other.dev@echo:test:sys hi', 'Failed to send message because the target is offline');
    await type('m not-an-address hi', 'Invalid address: "not-an-address"');
    await type('m our@sink:test:sys two words', 'Failed to parse args');
    const typo = await type('m our@snik:test:sys hi', 'No process');
    assert.match(typo, /terminal:sys: No process snik:test:sys on this node: check the name \(`top` lists the running processes\)/);
    await type('m -a 5 our@snik:test:sys hi', 'No process snik:test:sys');
  });

  it('top lists processes, and shows one process with its capabilities', async () => {
    await kernel.addNative(recorder('echo:test:sys'));
    const all = await type('top', 'running processes');
    assert.match(all, /echo:test:sys:\n {4}\(runtime\)\n {4}wit: 0\n {4}on-exit: Restart\n {4}public: true/);
    assert.match(all, /terminal:terminal:sys:/);
    assert.match(all, /top: 3 running processes/); // kernel, terminal, echo

    const one = await type('top terminal:terminal:sys -c', 'capabilities:');
    assert.match(one, /fake\.dev@kernel:distro:sys\("network"\)/);
    await type('top nope:nope:sys', 'process nope:nope:sys not running');
  });

  it('cat prints a VFS file', async () => {
    // A stand-in VFS answering Read the way vfs:distro:sys does.
    const vfs = recorder('vfs:distro:sys', (km, k) => {
      const req = JSON.parse(fromUtf8((km.message.val as { body: Uint8Array }).body));
      if (req.path === '/terminal:sys/pkg/scripts.json' && req.action === 'Read')
        k.respond(vfs.id, km, jsonBytes('Read'), { bytes: utf8('{"m.wasm": {}}') });
      else k.respond(vfs.id, km, jsonBytes({ Err: { IOError: 'No such file or directory (os error 2)' } }));
    });
    await kernel.addNative(vfs);
    await type('cat /terminal:sys/pkg/scripts.json', 'terminal:sys: {"m.wasm": {}}');
    await type('cat /nothing:here/pkg/x', 'failed to read file /nothing:here/pkg/x from VFS');
  });

  it('alias maps a name to a process that then gets the args as its body; aliases are saved', async () => {
    const target = recorder('target:test:sys');
    await kernel.addNative(target);
    await type('alias t target:test:sys', 'alias t set for target:test:sys');
    await type('alias bad not-an-id', 'Invalid process ID.');
    input.write('t hello there\n');
    await waitFor(() => target.received.length > 0);
    assert.equal(fromUtf8((target.received[0].message.val as { body: Uint8Array }).body), 'hello there');
    assert.equal(JSON.parse(readFileSync(join(home, '.terminal_aliases.json'), 'utf8')).t, 'target:test:sys');

    await type('alias t', 'alias t removed');
    await type('t again', "error calling script: 't' not found, either as an alias or process ID");
    await type('alias t', 'alias t not found');
  });

  it('kill stops a process through the kernel', async () => {
    const installer = systemProcess('main', 'app-store', 'sys');
    await kernel.addNative(recorder('main:app-store:sys'), [messagingCap({ node: OUR, process: systemProcess('kernel') })]);
    const init = await kernel.request(
      installer,
      'our@kernel:distro:sys',
      JSON.stringify({
        InitializeProcess: {
          id: 'doomed:pkg:pub.os',
          wasm_bytes_handle: '/pkg:pub.os/pkg/doomed.wasm',
          wit_version: 1,
          on_exit: 'Restart',
          initial_capabilities: [],
          public: false,
        },
      }),
      { blob: { bytes: new Uint8Array([0, 97, 115, 109]) } },
    );
    assert.equal(fromUtf8(init.response.body), '"InitializedProcess"');
    await kernel.request(installer, 'our@kernel:distro:sys', JSON.stringify({ RunProcess: 'doomed:pkg:pub.os' }));

    await type('kill doomed:pkg:pub.os', 'killed process doomed:pkg:pub.os');
    assert.equal(kernel.has('doomed:pkg:pub.os'), false);
    await type('kill doomed:pkg:pub.os', 'process doomed:pkg:pub.os not running');
    await type('kill terminal:terminal:sys', 'part of the runtime');
  });

  it('hi reports an offline node when there is no route to it', async () => {
    await type('hi other.dev hello!', 'other.dev is offline or does not exist');
    await type('hi other.dev', 'Not enough arguments given.');
  });

  it('prints the list of commands for an unknown command', async () => {
    const out = await type('frobnicate now', 'commands:');
    assert.match(out, /'frobnicate' not found, either as an alias or process ID/);
    assert.match(out, /m <address> <body>/);
    assert.match(out, /top \[-c\]/);
  });

  it('runs a script from scripts.json as a fresh process with the capabilities its entry lists, and sends it the args', async () => {
    const entry = {
      root: false,
      public: false,
      request_networking: true,
      request_capabilities: ['sink:test:sys', { process: 'vfs:distro:sys', params: { kind: 'read', drive: '/tools:test.os/data' } }],
      grant_capabilities: ['sink:test:sys'],
      wit_version: 1,
    };
    const files: Record<string, string> = {
      '/tools:test.os/pkg/scripts.json': JSON.stringify({ 'tool.wasm': entry }),
      '/tools:test.os/pkg/tool.wasm': 'wasm bytes',
    };
    const vfs = recorder('vfs:distro:sys', (km, k) => {
      const req = JSON.parse(fromUtf8((km.message.val as { body: Uint8Array }).body));
      const file = files[req.path];
      if (file !== undefined && req.action === 'Read') k.respond(vfs.id, km, jsonBytes('Read'), { bytes: utf8(file) });
      else k.respond(vfs.id, km, jsonBytes({ Err: { IOError: 'No such file or directory (os error 2)' } }));
    });
    await kernel.addNative(vfs);
    const sink = recorder('sink:test:sys');
    await kernel.addNative(sink);
    delivered.length = 0;

    await type('alias tool tool:tools:test.os', 'alias tool set');
    input.write('tool some args\n');
    await waitFor(() => delivered.length > 0);
    const run = delivered[0];
    assert.match(run.to, /^\d+:tools:test\.os$/);
    assert.equal(fromUtf8((run.km.message.val as { body: Uint8Array }).body), 'some args');
    assert.equal((run.km.message.val as { expectsResponse?: bigint }).expectsResponse, undefined);
    assert.equal(run.km.source.process.processName, 'terminal');

    const debug = await kernel.request(TERMINAL_ID, `${OUR}@kernel:distro:sys`, JSON.stringify({ Debug: { Process: run.to } }), { timeoutSecs: 5 });
    const info = (JSON.parse(fromUtf8(debug.response.body)) as { Debug: { Process: StoredProcess } }).Debug.Process;
    const caps = info.capabilities.map((c) => `${c.issuer} ${c.params}`);
    for (const want of [
      `${OUR}@sink:test:sys "messaging"`,
      `${OUR}@vfs:distro:sys {"kind":"read","drive":"/tools:test.os/data"}`,
      `${OUR}@terminal:terminal:sys "messaging"`,
      `${OUR}@kernel:distro:sys ${NETWORK_PARAMS}`,
    ])
      assert.ok(caps.includes(want), `missing ${want} in ${caps.join(', ')}`);
    assert.equal(info.on_exit, 'None');
    assert.equal(info.wit_version, 1);
    assert.equal(info.public, false);
    assert.ok(kernel.hasCapability(sink.id, messagingCap({ node: OUR, process: parseProcessId(run.to) })), 'sink may message the script');

    // A second run is another process.
    input.write('tool again\n');
    await waitFor(() => delivered.length > 1);
    assert.notEqual(delivered[1].to, run.to);
    await type('other:tools:test.os', 'error calling script: script not in scripts.json file');
    files['/tools:test.os/pkg/scripts.json'] = '{"tool.wasm": {"root": 1}}';
    await type('tool x', 'error calling script: could not parse scripts.json file');
  });

  it('answers EditAlias requests from terminal scripts', async () => {
    const script = recorder('123:terminal:sys');
    await kernel.addNative(script, [messagingCap({ node: OUR, process: TERMINAL_ID })]);
    kernel.grant(TERMINAL_ID, [messagingCap({ node: OUR, process: script.id })]); // so the answer reaches it
    const reply = await kernel.request(
      script.id,
      'our@terminal:terminal:sys',
      JSON.stringify({ EditAlias: { alias: 'e', process: 'echo:test:sys' } }),
      { timeoutSecs: 5 },
    );
    assert.equal(fromUtf8(reply.response.body), '{"EditAlias":"AliasSet"}');
    assert.match(printed, /terminal:sys: alias e set for echo:test:sys/);
  });

  it('Terminal API: a process holding the capability runs a command line as if typed and gets its output back', async () => {
    const app = recorder('app:test.os:sys');
    await kernel.addNative(app, [messagingCap({ node: OUR, process: TERMINAL_ID })]);
    kernel.grant(TERMINAL_ID, [messagingCap({ node: OUR, process: app.id })]); // as a package grants terminal
    const echoed = await kernel.request(app.id, 'our@terminal:terminal:sys', 'echo from a process', { timeoutSecs: 5 });
    assert.equal(fromUtf8(echoed.response.body), 'from a process');
    assert.match(printed, /terminal:sys: from a process\n/, 'the output shows on the node terminal too');
    const sink = recorder('sink:test:sys');
    await kernel.addNative(sink);
    const sent = await kernel.request(app.id, 'our@terminal:terminal:sys', 'm our@sink:test:sys hello', { timeoutSecs: 5 });
    assert.equal(fromUtf8(sent.response.body), '', 'm without -a prints nothing');
    await waitFor(() => sink.received.length > 0);
    assert.equal(fromUtf8((sink.received[0].message.val as { body: Uint8Array }).body), 'hello');
    assert.equal(sink.received[0].source.process.packageName, 'terminal', 'm sends it as a terminal:sys script, as when typed');
    const bad = await kernel.request(app.id, 'our@terminal:terminal:sys', 'nonsense args', { timeoutSecs: 5 });
    assert.match(fromUtf8(bad.response.body), /^error calling script: 'nonsense' not found, either as an alias or process ID/);
    assert.match(printed, /terminal:sys: error calling script: 'nonsense' not found/);
    // Fire-and-forget, as Hyperdrive's API is used: it still runs.
    kernel.tell(app.id, 'our@terminal:terminal:sys', 'alias greet echo:terminal:sys');
    await waitFor(() => printed.includes('alias greet set'));
    const greeted = await kernel.request(app.id, 'our@terminal:terminal:sys', 'greet hi there', { timeoutSecs: 5 });
    assert.equal(fromUtf8(greeted.response.body), 'hi there', 'aliases work as typed');
  });

  it('Terminal API: refused without the capability, ignored from another node, non-UTF-8 and unknown JSON explained', async () => {
    const app = recorder('nocap:test.os:sys');
    await kernel.addNative(app);
    await assert.rejects(kernel.request(app.id, 'our@terminal:terminal:sys', 'echo sneaky', { timeoutSecs: 5 }), (e: Error & { code?: string }) => e.code === 'no-capability');
    assert.doesNotMatch(printed, /sneaky/);
    terminal.handle({
      id: 7n,
      source: { node: 'other.dev', process: parseProcessId('app:test.os:sys') },
      target: { node: OUR, process: TERMINAL_ID },
      message: { tag: 'request', val: { inherit: false, body: utf8('echo remote'), capabilities: [] } },
    } as unknown as KernelMessage);
    await new Promise((r) => setTimeout(r, 20));
    assert.doesNotMatch(printed, /remote/);
    const capped = recorder('capped:test.os:sys');
    await kernel.addNative(capped, [messagingCap({ node: OUR, process: TERMINAL_ID })]);
    kernel.grant(TERMINAL_ID, [messagingCap({ node: OUR, process: capped.id })]);
    const r = await kernel.request(capped.id, 'our@terminal:terminal:sys', new Uint8Array([0xff, 0xfe]), { timeoutSecs: 5 });
    assert.match(fromUtf8(r.response.body), /not UTF-8 text/);
    const j = await kernel.request(capped.id, 'our@terminal:terminal:sys', '{"Frobnicate": 1}', { timeoutSecs: 5 });
    assert.match(fromUtf8(j.response.body), /^failed to parse TerminalRequest from fake\.dev@capped:test\.os:sys: send \{"EditAlias"/);
  });

  it('calls onExit on Ctrl-C and at the end of input, but not on close()', async () => {
    input.write('\x03');
    await waitFor(() => exits > 0);
    assert.equal(exits, 1);

    terminal.close();
    await kernel.shutdown();
    kernel = new Kernel({ our: OUR, home, log, runner: idleRunner, state: new MemoryState(), readWasm: async () => undefined });
    await boot();
    input.end();
    await waitFor(() => exits > 0);
    assert.equal(exits, 1);

    terminal.close();
    await kernel.shutdown();
    kernel = new Kernel({ our: OUR, home, log, runner: idleRunner, state: new MemoryState(), readWasm: async () => undefined });
    await boot();
    terminal.close();
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(exits, 0);
  });
});

describe('m tokenizer', () => {
  it('keeps single-quoted groups together without their quotes', () => {
    assert.deepEqual(tokenize(`our@a:b:c '{"a": "b c"}' -a 5`), ['our@a:b:c', '{"a": "b c"}', '-a', '5']);
  });
});
