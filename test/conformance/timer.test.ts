// timer:distro:sys from inside a component, as hyperdrive/src/timer.rs (Hyperdrive 1.9.2) answers:
// `{"SetTimer": ms}` is answered with an empty-body Response when the time is up; the module is
// public, so a process needs no capability for it.

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
});
