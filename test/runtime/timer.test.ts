// timer:distro:sys inside a real kernel: SetTimer answers after its duration, and Debug prints
// every active timer with its setter, when it pops and whether anyone awaits the Response.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Kernel } from '../../src/runtime/kernel/kernel.js';
import { createTimerModule } from '../../src/runtime/modules/timer.js';
import { fromUtf8, messagingCap, parseProcessId } from '../../src/core/types.js';
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

  it('a negative or fractional duration sets no timer; a sender that awaits an answer hears why at once', async () => {
    const before = timer.pending();
    kernel.tell(APP, TIMER, '{"SetTimer": -5}');
    kernel.tell(APP, TIMER, '{"SetTimer": 1.5}');
    await debugOutput();
    assert.equal(timer.pending(), before);
    const answer = async (body: string) => fromUtf8((await kernel.request(APP, TIMER, body, { timeoutSecs: 5 })).response.body);
    assert.equal(await answer('{"SetTimer": -5}'), JSON.stringify({ Err: 'expected {"SetTimer": <whole milliseconds >= 0>} or "Debug", got {"SetTimer":-5}' }));
    assert.equal(await answer('soon'), JSON.stringify({ Err: 'the request is not JSON: send {"SetTimer": <milliseconds>} or "Debug"' }));
    assert.equal(timer.pending(), before);
  });
});
