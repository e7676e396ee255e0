// Failure mode: an infinite loop that never calls the host. kill() must still end it.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { assertEchoWorks, fixture, newHost, Router } from './helpers.js';

const host = newHost();
after(() => host.close());

test('kill() ends a process stuck in a loop, with kind killed', async () => {
  const router = new Router(host);
  const looper = await router.start('looper', await fixture('loop'));
  await router.until(() => router.prints.find((p) => p.text === 'looping'), 'the loop to start');
  await looper.kill();
  assert.deepEqual(await router.exitOf('looper'), { kind: 'killed' });
  assert.equal(looper.exited, true);
  await looper.kill(); // a second kill is harmless
  assert.equal(await assertEchoWorks(router), 'still alive');
  assert.equal(router.exits.get('fake.dev@looper:test:sys')?.length, 1, 'onExit exactly once');
});
