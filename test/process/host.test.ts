// The host's own life cycle: bad input, close() with processes running or starting.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HostClosedError, ProcessStartError } from '../../src/runtime/process/host.js';
import { addr, fixture, NODE, newHost, Router } from './helpers.js';

const quiet = { onSend() {}, onCall() {}, onPrint() {} };

test('bytes that are not a component are refused with ProcessStartError', async () => {
  const host = newHost(0);
  try {
    await assert.rejects(
      host.start({ id: addr('junk').process, node: NODE, wasm: new Uint8Array([1, 2, 3, 4]), events: { ...quiet, onExit() {} } }),
      (e: Error) => e instanceof ProcessStartError && /cannot start junk:test:sys/.test(e.message),
    );
  } finally {
    await host.close();
  }
});

test('close() kills running processes (onExit killed, once) and refuses new starts', async () => {
  const host = newHost();
  const router = new Router(host);
  const p = await router.start('echo', await fixture('echo'));
  await host.close();
  assert.equal(p.exited, true);
  assert.deepEqual(router.exits.get('fake.dev@echo:test:sys'), [{ kind: 'killed' }]);
  await assert.rejects(router.start('late', await fixture('echo')), HostClosedError);
});

test('close() during a start rejects that start and reports no exit for it', async () => {
  const host = newHost(0);
  const wasm = await fixture('echo');
  const exits: unknown[] = [];
  // warm the transpile and compile caches so the start is past them when close() comes
  const first = await host.start({ id: addr('first').process, node: NODE, wasm, events: { ...quiet, onExit: () => {} } });
  await first.kill();
  const starting = host.start({ id: addr('second').process, node: NODE, wasm, events: { ...quiet, onExit: (r) => exits.push(r) } });
  const outcome = starting.then(
    () => 'started',
    (e: Error) => e.constructor.name,
  );
  await new Promise((r) => setImmediate(r));
  await host.close();
  const result = await outcome;
  // either it made it (and close killed it, with an exit) or it was refused (and has no exit)
  if (result === 'started') assert.deepEqual(exits, [{ kind: 'killed' }]);
  else {
    assert.ok(result === 'ProcessStartError' || result === 'HostClosedError', result);
    assert.deepEqual(exits, []);
  }
});
