// Failure mode: runaway memory. The host caps the guest's linear memory (the maximum is
// written into the core module), so the guest fails to grow, aborts, and exits with kind memory,
// while the node's own memory stays bounded.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ProcessStartError } from '../../src/runtime/process/host.js';
import { addr, assertEchoWorks, fixture, NODE, newHost, Router } from './helpers.js';

const host = newHost();
after(() => host.close());

const LIMIT = 64 * 1024 * 1024;

test('a process that allocates without end exits with kind memory at its cap', async () => {
  const router = new Router(host);
  const wasm = await fixture('hog');
  const rssBefore = process.memoryUsage().rss;
  await router.start('hog', wasm, LIMIT);
  const reason = await router.exitOf('hog');
  assert.equal(reason.kind, 'memory', JSON.stringify(reason));
  assert.match(reason.kind === 'memory' ? reason.message : '', /64 MiB/);
  // the guest was stopped near its cap, not at the machine's limit
  assert.ok(process.memoryUsage().rss - rssBefore < 4 * LIMIT, 'node RSS grew by less than 4x the cap');
  assert.equal(await assertEchoWorks(router), 'still alive');
  assert.equal(router.exits.get('fake.dev@hog:test:sys')?.length, 1, 'onExit exactly once');
});

test('a cap below what the component needs at start is refused up front', async () => {
  const events = { onSend() {}, onCall() {}, onPrint() {}, onExit() {} };
  await assert.rejects(
    host.start({ id: addr('tiny').process, node: NODE, wasm: await fixture('echo'), memoryLimitBytes: 1024 * 1024, events }),
    (e: Error) => e instanceof ProcessStartError && /needs .* MiB of memory at start/.test(e.message),
  );
});
