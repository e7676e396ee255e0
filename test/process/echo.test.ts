// The echo fixture through the host: a Request in, the same body and blob back out.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ProcessInstance } from '../../src/runtime/process/host.js';
import { addressToString } from '../../src/core/types.js';
import { addr, blob, bodyOf, fixture, newHost, Router, request, testLog, text } from './helpers.js';

const host = newHost();
const router = new Router(host);
let echo: ProcessInstance;

before(async () => {
  echo = await router.start('echo', await fixture('echo'));
  testLog.info(`echo started in ${echo.timings.totalMs.toFixed(1)} ms (warm worker: ${echo.timings.warmWorker})`);
});
after(() => host.close());

test('echo answers with the same body and blob, to the asker, under the same id', async () => {
  const mark = router.sent.length;
  echo.deliver(request('hello', { id: 7n, to: addr('echo'), expects: 5, blob: blob('attached bytes') }));
  const { km } = await router.nextSent((s) => s.km.id === 7n, 'the echo of request 7', mark);
  assert.equal(km.message.tag, 'response');
  assert.equal(bodyOf(km), 'hello');
  assert.equal(addressToString(km.source), 'fake.dev@echo:test:sys');
  assert.equal(addressToString(km.target), 'fake.dev@tester:test:sys');
  assert.equal(km.rsvp, undefined);
  assert.equal(km.lazyLoadBlob?.mime, 'text/plain');
  assert.equal(text(km.lazyLoadBlob?.bytes), 'attached bytes');
});

test('a Request without a blob gets a Response without one, and rsvp wins over source', async () => {
  const mark = router.sent.length;
  echo.deliver(request('no blob', { id: 8n, to: addr('echo'), expects: 5, rsvp: addr('asker') }));
  const { km } = await router.nextSent((s) => s.km.id === 8n, 'the echo of request 8', mark);
  assert.equal(bodyOf(km), 'no blob');
  assert.equal(km.lazyLoadBlob, undefined);
  assert.equal(addressToString(km.target), 'fake.dev@asker:test:sys');
});

test('many round trips in a row come back in order', async () => {
  const mark = router.sent.length;
  const n = 200;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    echo.deliver(request(`m${i}`, { id: BigInt(1000 + i), to: addr('echo'), expects: 5 }));
    await router.nextSent((s) => s.km.id === BigInt(1000 + i), `echo ${i}`, mark);
  }
  testLog.info(`echo round trip: ${(((performance.now() - t0) * 1000) / n).toFixed(0)} us (sequential, ${n} messages)`);
  const bodies = router.sent.slice(mark).map((s) => bodyOf(s.km));
  assert.deepEqual(bodies, Array.from({ length: n }, (_, i) => `m${i}`));
});

test('two instances of one component run side by side, each with its own address', async () => {
  const other = await router.start('echo-two', await fixture('echo'));
  const mark = router.sent.length;
  other.deliver(request('to two', { id: 21n, to: addr('echo-two'), expects: 5 }));
  echo.deliver(request('to one', { id: 22n, to: addr('echo'), expects: 5 }));
  const two = await router.nextSent((s) => s.km.id === 21n, 'reply from echo-two', mark);
  const one = await router.nextSent((s) => s.km.id === 22n, 'reply from echo', mark);
  assert.equal(addressToString(two.km.source), 'fake.dev@echo-two:test:sys');
  assert.equal(bodyOf(two.km), 'to two');
  assert.equal(addressToString(one.km.source), 'fake.dev@echo:test:sys');
});
