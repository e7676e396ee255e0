// shutdownTrigger: the first signal starts the clean-up; a second one from the user forces the
// exit, but a SIGPIPE met while stopping (a child's pipe that the first signal closed) does not.

import assert from 'node:assert/strict';
import { it } from 'node:test';
import { shutdownTrigger } from '../../src/cli/lifecycle.js';

it('a SIGPIPE while stopping lets the clean-up finish; a second signal from the user forces', async () => {
  const forced: string[] = [];
  const t = shutdownTrigger({ signals: ['SIGUSR2', 'SIGPIPE'], onForce: (s) => forced.push(s) });
  // Signals to ourselves arrive through the event loop: keep it alive until they have.
  const alive = setInterval(() => {}, 1000);
  try {
    process.kill(process.pid, 'SIGUSR2');
    assert.equal(await t.reason, 'SIGUSR2');
    process.kill(process.pid, 'SIGPIPE');
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(forced, [], 'a SIGPIPE while stopping is not a second interrupt');
    process.kill(process.pid, 'SIGUSR2');
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(forced, ['SIGUSR2']);
  } finally {
    clearInterval(alive);
    t.dispose();
  }
});
