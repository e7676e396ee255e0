// timer:distro:sys from inside a component, as hyperdrive/src/timer.rs (Hyperdrive 1.9.2) answers:
// `{"SetTimer": ms}` (a u64, lib/src/timer.rs TimerAction) is answered with an empty-body Response
// when the time is up; the module is public, so a process needs no capability for it; a body that
// is not a TimerAction is ignored. Beyond Hyperdrive, a per-process limit on pending timers.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bootConformanceNode, type ConformanceNode } from './harness.js';

const TIMER = 'timer:distro:sys';

describe('conformance: timer', { timeout: 180_000 }, () => {
  let c: ConformanceNode;

  before(async () => {
    c = await bootConformanceNode([
      { name: 'timer-conf', processes: [{ name: 'driver', request_capabilities: ['http-server:distro:sys'], grant_capabilities: ['http-server:distro:sys', TIMER] }] },
    ]);
  });
  after(async () => {
    await c?.stop();
  });

  it('SetTimer pops with an empty body from timer:distro:sys (timer.rs: Response { body: vec![] })', async () => {
    const driver = c.driver('driver', 'timer-conf');
    const started = Date.now();
    const a = await driver.answer(TIMER, { SetTimer: 50 });
    assert.ok(Date.now() - started >= 50, 'the timer popped before its time');
    assert.equal(a.source, `fake.dev@${TIMER}`);
    assert.equal(a.body, '');
    assert.equal(a.blob, null);
  });

  it('SetTimer 0 pops at once (timer.rs: "if the timer is set to pop in 0 millis, we immediately respond")', async () => {
    const a = await c.driver('driver', 'timer-conf').answer(TIMER, { SetTimer: 0 });
    assert.equal(a.body, '');
  });

  it('a body that is not a TimerAction gets no answer (timer.rs: "received a request with an invalid body"; continue)', async () => {
    const driver = c.driver('driver', 'timer-conf');
    for (const body of ['soon', '{"SetTimer": -1}', '{"SetTimer": 1.5}', '{"SetTimer": "5"}'])
      assert.deepEqual(await driver.send(TIMER, body, { timeout: 1 }), { sendError: { kind: 'timeout', target: `fake.dev@${TIMER}` } }, body);
  });

  it('takes any u64 duration, past 2^53 included, as a timer that has not popped', async () => {
    const r = await c.driver('driver', 'timer-conf').send(TIMER, '{"SetTimer": 18446744073709551615}', { timeout: 1 });
    assert.deepEqual(r, { sendError: { kind: 'timeout', target: `fake.dev@${TIMER}` } });
  });
});

describe('conformance: timer, per-process limit (ours)', { timeout: 180_000 }, () => {
  let c: ConformanceNode;

  before(async () => {
    c = await bootConformanceNode(
      [
        {
          name: 'timer-quota',
          processes: ['greedy', 'modest'].map((name) => ({
            name,
            request_capabilities: ['http-server:distro:sys'],
            grant_capabilities: ['http-server:distro:sys', TIMER],
          })),
        },
      ],
      { quotas: { timersPerProcess: 2 } },
    );
  });
  after(async () => {
    await c?.stop();
  });

  it('refuses a request over the limit at once with {"Err": why}, never an empty body; other processes are unaffected', async () => {
    const greedy = c.driver('greedy', 'timer-quota');
    for (let i = 0; i < 2; i++) assert.deepEqual(await greedy.send(TIMER, { SetTimer: 600_000 }, { timeout: null }), { sent: true });
    const a = await greedy.answer(TIMER, { SetTimer: 10 });
    assert.match(JSON.parse(a.body).Err, /already has 2 pending timers, the most this node allows one process/);
    assert.equal((await c.driver('modest', 'timer-quota').answer(TIMER, { SetTimer: 10 })).body, '');
  });
});
