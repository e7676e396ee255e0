// Failure mode: init throws. Only that worker ends, with the guest's message as the root cause.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { assertEchoWorks, fixture, newHost, Router } from './helpers.js';

const host = newHost();
after(() => host.close());

test('a throw in init ends the process with kind error and the thrown message', async () => {
  const router = new Router(host);
  await router.start('thrower', await fixture('throws'));
  const reason = await router.exitOf('thrower');
  assert.equal(reason.kind, 'error', JSON.stringify(reason));
  assert.ok(reason.kind === 'error' && reason.message.includes('boom in init of fake.dev@thrower:test:sys'), JSON.stringify(reason));
  assert.equal(await assertEchoWorks(router), 'still alive');
  assert.equal(router.exits.get('fake.dev@thrower:test:sys')?.length, 1, 'onExit exactly once');
});
