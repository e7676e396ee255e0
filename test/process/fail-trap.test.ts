// Failure mode: the guest traps (here: unbounded recursion overflows the stack).
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { assertEchoWorks, fixture, newHost, Router } from './helpers.js';

const host = newHost();
after(() => host.close());

test('a trap ends only that process, with kind error and the cause', async () => {
  const router = new Router(host);
  await router.start('trapper', await fixture('trap'));
  const reason = await router.exitOf('trapper');
  assert.equal(reason.kind, 'error', JSON.stringify(reason));
  assert.match(reason.kind === 'error' ? reason.message : '', /too much recursion/);
  assert.equal(await assertEchoWorks(router), 'still alive');
  assert.equal(router.exits.get('fake.dev@trapper:test:sys')?.length, 1, 'onExit exactly once');
});
