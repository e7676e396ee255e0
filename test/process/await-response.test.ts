// send-and-await-response between two real components, through an in-test router.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ProcessInstance } from '../../src/runtime/process/host.js';
import { addressToString } from '../../src/core/types.js';
import { addr, bodyOf, fixture, jsonOf, newHost, Router, request } from './helpers.js';

const host = newHost(2);
const router = new Router(host);
let pinger: ProcessInstance;

interface PingResult {
  replies: Array<{ from: string; body: string }>;
  error: { kind: string; target: string; body: string } | null;
}

before(async () => {
  await router.start('echo', await fixture('echo'));
  pinger = await router.start('pinger', await fixture('pinger'));
});
after(() => host.close());

test('pinger awaits each Response from echo in turn', async () => {
  const mark = router.sent.length;
  pinger.deliver(request({ target: 'fake.dev@echo:test:sys', body: 'ping', count: 3 }, { id: 1n, to: addr('pinger'), expects: 30 }));
  const done = await router.nextSent((s) => s.km.id === 1n && s.km.message.tag === 'response', 'pinger to answer', mark);
  const result = jsonOf<PingResult>(done.km);
  assert.equal(result.error, null);
  assert.deepEqual(result.replies, Array(3).fill({ from: 'fake.dev@echo:test:sys', body: 'ping' }));
  // the awaited Requests went out with rsvp = pinger and no context
  const pings = router.sent.slice(mark).filter((s) => s.from === 'fake.dev@pinger:test:sys' && s.km.message.tag === 'request');
  assert.equal(pings.length, 3);
  for (const p of pings) {
    assert.equal(addressToString(p.km.rsvp!), 'fake.dev@pinger:test:sys');
    assert.equal(p.context, undefined);
  }
  assert.equal(new Set(pings.map((p) => p.km.id)).size, 3, 'each Request has a fresh id');
});

test('a SendError comes back to the waiting send-and-await-response; messages meanwhile wait their turn', async () => {
  const mark = router.sent.length;
  pinger.deliver(request({ target: 'fake.dev@nowhere:test:sys', body: 'lost' }, { id: 2n, to: addr('pinger'), expects: 30 }));
  const lost = await router.nextSent((s) => s.km.target.process.processName === 'nowhere', 'the request to nowhere', mark);
  // while pinger waits, a second command arrives: it must be held, not handed to the waiting call
  pinger.deliver(request({ target: 'fake.dev@echo:test:sys', body: 'second' }, { id: 3n, to: addr('pinger'), expects: 30 }));
  router.fail(lost.km, 'timeout');
  const first = await router.nextSent((s) => s.km.id === 2n, 'the answer to command 2', mark);
  assert.deepEqual(jsonOf<PingResult>(first.km), {
    replies: [],
    error: { kind: 'timeout', target: 'fake.dev@nowhere:test:sys', body: 'lost' },
  });
  const second = await router.nextSent((s) => s.km.id === 3n && s.km.message.tag === 'response', 'the answer to command 3', mark);
  assert.deepEqual(jsonOf<PingResult>(second.km).replies, [{ from: 'fake.dev@echo:test:sys', body: 'second' }]);
  const order = router.sent.slice(mark).filter((s) => s.km.message.tag === 'response' && s.from.includes('pinger'));
  assert.deepEqual(
    order.map((s) => s.km.id),
    [2n, 3n],
  );
  assert.equal(bodyOf(lost.km), 'lost');
});

test('awaiting a Response from yourself ends the process with a clear error', async () => {
  const self = await router.start('self-pinger', await fixture('pinger'));
  self.deliver(request({ target: 'fake.dev@self-pinger:test:sys', body: 'me' }, { id: 4n, to: addr('self-pinger'), expects: 5 }));
  const reason = await router.exitOf('self-pinger');
  assert.equal(reason.kind, 'error');
  assert.match(reason.kind === 'error' ? reason.message : '', /to itself would deadlock/);
});
