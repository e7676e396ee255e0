// timer:distro:sys inside a real kernel: SetTimer answers after its duration, and Debug prints
// every active timer with its setter, when it pops and whether anyone awaits the Response. On a
// mocked clock: durations past setTimeout's limit, above 2^53, and the per-process limit.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, mock } from 'node:test';
import type { KernelApi } from '../../src/runtime/kernel/api.js';
import type { Kernel } from '../../src/runtime/kernel/kernel.js';
import { createTimerModule } from '../../src/runtime/modules/timer.js';
import { fromUtf8, type KernelMessage, messagingCap, parseProcessId, utf8 } from '../../src/core/types.js';
import { bareKernel } from './helpers.js';

const OUR = 'fake.dev';
const TIMER = `${OUR}@timer:distro:sys`;
const APP = parseProcessId('app:timers:test.os');
const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);

describe('timer:distro:sys', () => {
  let home: string;
  let kernel: Kernel;
  let timer: ReturnType<typeof createTimerModule>;
  const printed: string[] = [];
  const debugOutput = async (): Promise<string> => {
    const before = printed.length;
    kernel.tell(APP, TIMER, '"Debug"');
    for (let i = 0; i < 100 && printed.length === before; i++) await new Promise((r) => setTimeout(r, 5));
    return printed.slice(before).join('\n');
  };

  before(async () => {
    home = mkdtempSync(join(tmpdir(), 'kit-timer-'));
    kernel = bareKernel(OUR, home);
    kernel.setPrinter((_v, t) => printed.push(t));
    timer = createTimerModule({ now: () => NOW });
    await kernel.addNative(timer);
    await kernel.addNative({ id: APP, handle() {} });
    kernel.grant(timer.id, [messagingCap({ node: OUR, process: APP })]); // so that its pops reach APP
  });
  after(async () => {
    await kernel.shutdown();
    rmSync(home, { recursive: true, force: true });
  });

  it('Debug with nothing pending says so', async () => {
    assert.equal(await debugOutput(), 'timer: 0 pending timers');
  });

  it('Debug lists each active timer, soonest first: setter, pop time, time left, and who awaits the Response', async () => {
    const awaited = kernel.request(APP, TIMER, '{"SetTimer": 30}', { timeoutSecs: 5 });
    kernel.tell(APP, TIMER, '{"SetTimer": 600000}');
    const givesUp = kernel.request(APP, TIMER, '{"SetTimer": 300000}', { timeoutSecs: 1 }).catch((e: Error) => e);
    assert.equal(timer.pending(), 3);
    assert.equal(
      await debugOutput(),
      [
        'timer: 3 pending timers:',
        `  ${OUR}@app:timers:test.os: 30 ms timer pops at 2026-01-01T12:00:00.030Z (in 30 ms); the setter awaits the Response (timeout 5 s)`,
        `  ${OUR}@app:timers:test.os: 300000 ms timer pops at 2026-01-01T12:05:00.000Z (in 300000 ms); the setter awaits the Response but gives up after 1 s, before it pops`,
        `  ${OUR}@app:timers:test.os: 600000 ms timer pops at 2026-01-01T12:10:00.000Z (in 600000 ms); the setter expects no Response (the pop goes nowhere)`,
      ].join('\n'),
    );
    assert.equal((await awaited).response.body.length, 0, 'the pop is an empty Response');
    assert.equal(timer.pending(), 2);
    assert.match(String(await givesUp), /no response from .* within 1 s/);
  });

  it('a request that is not a TimerAction sets no timer and gets no answer (as timer.rs), but the terminal says what to send', async () => {
    const before = timer.pending();
    const printedBefore = printed.length;
    kernel.tell(APP, TIMER, '{"SetTimer": -5}');
    kernel.tell(APP, TIMER, '{"SetTimer": 1.5}');
    kernel.tell(APP, TIMER, 'soon');
    await debugOutput();
    assert.equal(timer.pending(), before);
    const lines = printed.slice(printedBefore, printedBefore + 3);
    assert.equal(lines.length, 3);
    for (const line of lines) assert.match(line, /^timer: ignored a request from fake\.dev@app:timers:test\.os that is not a TimerAction .*send \{"SetTimer": <whole milliseconds, 0 or more>\} or "Debug"$/);
    const e = await kernel.request(APP, TIMER, '{"SetTimer": -5}', { timeoutSecs: 1 }).catch((err: Error) => err);
    assert.match(String(e), /no response/);
  });
});

/** The timer module alone, against a stand-in kernel that records what it answers, on mocked timers. */
describe('timer:distro:sys on a mocked clock', () => {
  const answered: Array<{ id: bigint; body: string }> = [];
  const printed: string[] = [];
  let mono = 0;
  const kernel = {
    our: OUR,
    respond: (_from: unknown, to: KernelMessage, body: Uint8Array | string) => answered.push({ id: to.id, body: typeof body === 'string' ? body : fromUtf8(body) }),
    print: (_v: number, text: string) => printed.push(text),
  } as unknown as KernelApi;
  let nextId = 1n;
  const request = (body: string, expects: bigint | undefined = 5n, process = APP): bigint => {
    const id = nextId++;
    t.handle({
      id,
      source: { node: OUR, process },
      target: { node: OUR, process: parseProcessId('timer:distro:sys') },
      message: { tag: 'request', val: { inherit: false, expectsResponse: expects, body: utf8(body), capabilities: [] } },
    });
    return id;
  };
  const advance = (ms: number) => {
    mono += ms;
    mock.timers.tick(ms);
  };
  let t: ReturnType<typeof createTimerModule>;

  before(() => {
    mock.timers.enable({ apis: ['setTimeout'] });
    t = createTimerModule({ now: () => NOW + mono, monotonic: () => mono, timersPerProcess: 3 });
    t.start?.(kernel);
  });
  after(() => {
    t.stop?.();
    mock.timers.reset();
  });

  it("waits out a u64 duration past setTimeout's 2^31-1 ms (24.8 days) instead of popping early", () => {
    const days60 = 60 * 24 * 3600 * 1000;
    const id = request(`{"SetTimer": ${days60}}`);
    advance(2 ** 31 - 1);
    advance(2 ** 31 - 1);
    advance(days60 - 1 - 2 * (2 ** 31 - 1));
    assert.equal(answered.length, 0, 'not 1 ms before 60 days');
    advance(1);
    assert.deepEqual(answered, [{ id, body: '' }], 'at 60 days exactly');
    answered.length = 0;
  });

  it('takes durations above 2^53 ms exactly and keeps them pending (no pop in practice)', () => {
    request('{"SetTimer": 18446744073709551615}', undefined);
    assert.equal(t.pending(), 1);
    advance(2 ** 31 - 1);
    assert.equal(answered.length, 0);
    t.stop?.();
  });

  it('refuses a process its timers-per-process limit with {"Err": why} at once, once on the terminal, others unaffected', () => {
    for (let i = 0; i < 3; i++) request('{"SetTimer": 60000}');
    const over = request('{"SetTimer": 60000}');
    request('{"SetTimer": 60000}');
    const why = answered.filter((a) => a.body !== '');
    assert.equal(why.length, 2);
    assert.equal(why[0].id, over);
    assert.match(JSON.parse(why[0].body).Err, /already has 3 pending timers, the most this node allows one process \(--timers-per-process or KIT_TIMERS_PER_PROCESS raises it\)/);
    assert.equal(printed.filter((l) => l.includes('pending timers, the most')).length, 1, 'one terminal line per episode');
    const other = request('{"SetTimer": 10}', 5n, parseProcessId('other:timers:test.os'));
    advance(10);
    assert.deepEqual(answered.at(-1), { id: other, body: '' });
    // once one pops, the process may set another
    advance(60_000);
    answered.length = 0;
    request('{"SetTimer": 5}');
    advance(5);
    assert.equal(answered.at(-1)?.body, '');
  });
});
