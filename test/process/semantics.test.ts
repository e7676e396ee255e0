// The message semantics the worker implements (interop §10.5), seen through the scripted probe
// fixture: inherit, rsvp, ids, blobs, contexts, the prompting message, kernel calls, limits.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { KernelCallOp, ProcessInstance } from '../../src/runtime/process/host.js';
import { addressToString, type KernelMessage, MAX_MESSAGE_BYTES, utf8 } from '../../src/core/types.js';
import { addr, blob, bodyOf, fixture, jsonOf, newHost, Router, request, text } from './helpers.js';

const host = newHost(2);
const router = new Router(host);
let probe: ProcessInstance;
const calls: Array<{ op: KernelCallOp; args: unknown[] }> = [];

const PROBE = 'fake.dev@probe:test:sys';
const to = addr('probe');

before(async () => {
  probe = await router.start('probe', await fixture('probe'));
  router.onCall = (_from, op, args) => {
    calls.push({ op, args });
    switch (op) {
      case 'get-state':
        return utf8('saved');
      case 'set-state':
        return undefined;
      case 'spawn':
        throw Object.assign(new Error('name taken'), { payload: 'name-taken' });
      case 'our-capabilities':
        return Promise.resolve([{ issuer: addr('x'), params: '"messaging"' }]);
      default:
        throw new Error(`disk on fire during ${op}`);
    }
  };
});
after(() => host.close());

/** Send a command to the probe and wait for the first message it sends after that. */
async function command(
  cmd: object,
  o: Partial<Parameters<typeof request>[1]> & { id: bigint },
  match: (km: KernelMessage) => boolean = () => true,
  target: ProcessInstance = probe,
) {
  const mark = router.sent.length;
  target.deliver(request(cmd, { to, ...o }));
  return router.nextSent((s) => match(s.km), `the probe's reaction to ${JSON.stringify(cmd)}`, mark);
}

const fromProbe = (km: KernelMessage) => addressToString(km.source) === PROBE;

test('an inheriting Request takes the prompting id, its rsvp and its blob', async () => {
  const { km, context } = await command(
    { op: 'request', target: 'fake.dev@next:test:sys', inherit: true, body: 'fwd' },
    { id: 42n, rsvp: addr('asker'), blob: blob('B1') },
  );
  assert.equal(addressToString(km.target), 'fake.dev@next:test:sys');
  assert.equal(km.id, 42n);
  assert.equal(addressToString(km.rsvp!), 'fake.dev@asker:test:sys');
  assert.equal(text(km.lazyLoadBlob?.bytes), 'B1');
  assert.equal(bodyOf(km), 'fwd');
  assert.equal(context, undefined);
});

test('a Request that neither inherits nor expects a Response gets a fresh id, no rsvp, no blob', async () => {
  const { km } = await command(
    { op: 'request', target: 'fake.dev@next:test:sys', body: 'plain', context: 'dropped' },
    { id: 43n, rsvp: addr('asker'), blob: blob('B2') },
  );
  assert.notEqual(km.id, 43n);
  assert.equal(km.rsvp, undefined);
  assert.equal(km.lazyLoadBlob, undefined);
});

test('expects-response: rsvp is ourselves, the context goes to the kernel and comes back with the Response', async () => {
  const sent = await command(
    { op: 'request', target: 'fake.dev@later:test:sys', expects: 5, context: 'ctx-A', body: 'q', blob: 'mine' },
    { id: 50n, expects: 5 },
  );
  assert.equal(addressToString(sent.km.rsvp!), PROBE);
  assert.equal(text(sent.context), 'ctx-A');
  assert.equal(text(sent.km.lazyLoadBlob?.bytes), 'mine');
  assert.notEqual(sent.km.id, 50n);
  assert.equal(sent.km.message.tag === 'request' && sent.km.message.val.expectsResponse, 5n);

  // another Request arrives first and becomes the prompting message...
  probe.deliver(request({ op: 'noop' }, { id: 60n, to, expects: 5, from: addr('other') }));
  // ...then the Response: the probe reports it, and its answer goes to the Request that caused it
  const mark = router.sent.length;
  probe.deliver({
    id: sent.km.id,
    source: addr('later'),
    target: to,
    message: { tag: 'response', val: [{ inherit: false, body: utf8('answer'), metadata: undefined, capabilities: [] }, utf8('ctx-A')] },
    lazyLoadBlob: blob('R'),
  });
  const report = await router.nextSent((s) => s.km.target.process.processName === 'observer', 'the report', mark);
  assert.deepEqual(jsonOf(report.km), { event: 'response', from: 'fake.dev@later:test:sys', body: 'answer', context: 'ctx-A', blob: 'R' });
  const reply = await router.nextSent((s) => s.km.message.tag === 'response' && fromProbe(s.km), 'the after-response', mark);
  assert.equal(bodyOf(reply.km), '"after:answer"');
  assert.equal(reply.km.id, 50n);
  assert.equal(addressToString(reply.km.target), 'fake.dev@tester:test:sys');
});

test('a SendError reaches receive() with its context, and restores the prompting message', async () => {
  const sent = await command(
    { op: 'request', target: 'fake.dev@later:test:sys', expects: 5, context: 'ctx-E', body: 'doomed' },
    { id: 70n, expects: 5 },
  );
  const mark = router.sent.length;
  router.fail(sent.km, 'offline');
  const report = await router.nextSent((s) => s.km.target.process.processName === 'observer', 'the report', mark);
  assert.deepEqual(jsonOf(report.km), { event: 'send-error', kind: 'offline', target: 'fake.dev@later:test:sys', context: 'ctx-E' });
  const reply = await router.nextSent((s) => s.km.message.tag === 'response' && fromProbe(s.km), 'the after-error', mark);
  assert.equal(reply.km.id, 70n);
});

test('has-blob and get-blob see the current message; last-blob keeps the last blob received', async () => {
  const isAnswer = (id: bigint) => (km: KernelMessage) => km.id === id && km.message.tag === 'response';
  const withBlob = await command({ op: 'blobs' }, { id: 71n, expects: 5, blob: blob('X') }, isAnswer(71n));
  assert.deepEqual(jsonOf(withBlob.km), { has: true, get: 'X', last: 'X' });
  const without = await command({ op: 'blobs' }, { id: 72n, expects: 5 }, isAnswer(72n));
  assert.deepEqual(jsonOf(without.km), { has: false, get: null, last: 'X' });
});

test('an inheriting Response reuses the last blob and goes to rsvp ?? source with the prompting id', async () => {
  const { km } = await command({ op: 'respond', inherit: true, body: 'r', blob: 'ignored' }, { id: 80n, rsvp: addr('asker'), blob: blob('Y') });
  assert.equal(km.message.tag, 'response');
  assert.equal(km.id, 80n);
  assert.equal(addressToString(km.target), 'fake.dev@asker:test:sys');
  assert.equal(text(km.lazyLoadBlob?.bytes), 'Y');
  assert.equal(km.rsvp, undefined);
});

test('a Response nobody is waiting for is dropped, and our() is answered locally', async () => {
  const mark = router.sent.length;
  probe.deliver({
    id: 123456789n,
    source: addr('stranger'),
    target: to,
    message: { tag: 'response', val: [{ inherit: false, body: utf8('unasked'), metadata: undefined, capabilities: [] }, undefined] },
  });
  const { km } = await command({ op: 'our' }, { id: 90n, expects: 5 });
  assert.equal(km.id, 90n);
  assert.equal(jsonOf(km), PROBE);
  assert.equal(
    router.sent.slice(mark).filter((s) => s.km.target.process.processName === 'observer').length,
    0,
    'no report of the unasked Response',
  );
});

test('print-to-terminal and stdout lines reach onPrint', async () => {
  const mark = router.prints.length;
  probe.deliver(request({ op: 'print', text: 'hi there', verbosity: 1 }, { id: 91n, to }));
  const stdout = await router.until(() => router.prints.slice(mark).find((p) => p.text === 'stdout: hi there'), 'the stdout line');
  assert.equal(stdout.verbosity, 0);
  assert.deepEqual(router.prints.slice(mark)[0], { from: PROBE, verbosity: 1, text: 'hi there' });
});

test('Date.now() and Math.random() are live, not frozen at build time', async () => {
  const t0 = Date.now();
  const a = jsonOf<{ now: number; random: number }>((await command({ op: 'now' }, { id: 92n, expects: 5 })).km);
  const b = jsonOf<{ now: number; random: number }>((await command({ op: 'now' }, { id: 93n, expects: 5 })).km);
  assert.ok(a.now >= t0 && a.now <= Date.now(), `guest clock ${a.now} within [${t0}, now]`);
  assert.notEqual(a.random, b.random);
});

test('kernel calls block the guest until the kernel answers, results and result errors included', async () => {
  calls.length = 0;
  const state = await command({ op: 'state', set: 'new' }, { id: 94n, expects: 5 });
  assert.deepEqual(jsonOf(state.km), { state: 'saved' });
  assert.deepEqual(
    calls.map((c) => c.op),
    ['set-state', 'get-state'],
  );
  assert.equal(text(calls[0].args[0] as Uint8Array), 'new');

  const spawned = await command({ op: 'spawn', name: 'kid', wasmPath: '/pkg/kid.wasm' }, { id: 95n, expects: 5 });
  assert.deepEqual(jsonOf(spawned.km), { err: 'name-taken' });
  assert.deepEqual(calls.at(-1), { op: 'spawn', args: ['kid', '/pkg/kid.wasm', { tag: 'none' }, [], [], false] });

  const caps = await command({ op: 'caps' }, { id: 96n, expects: 5 });
  assert.deepEqual(jsonOf(caps.km), [{ issuer: 'fake.dev@x:test:sys', params: '"messaging"' }]);
});

test('a kernel call that fails without a payload ends the guest with the reason', async () => {
  const p = await router.start('probe-calls', await fixture('probe'));
  p.deliver(request({ op: 'state', clear: true }, { id: 97n, to: addr('probe-calls'), expects: 5 }));
  const reason = await router.exitOf('probe-calls');
  assert.equal(reason.kind, 'error');
  assert.match(reason.kind === 'error' ? reason.message : '', /clear-state failed: disk on fire during clear-state/);
});

// hyperdrive/src/net/ws/utils.rs: the network drops a message over its limit and the sender
// times out; sending it never traps the process.
test('a message over MAX_MESSAGE_BYTES for another node is sent like any other (the network drops it)', async () => {
  const p = await router.start('probe-big', await fixture('probe'));
  const remote = { ...addr('tester'), node: 'other.dev' };
  p.deliver(request({ op: 'big', bytes: MAX_MESSAGE_BYTES + 1 }, { id: 98n, from: remote, to: addr('probe-big'), expects: 5 }));
  for (let i = 0; i < 500 && !router.sent.some((s) => addressToString(s.km.source) === 'fake.dev@probe-big:test:sys'); i++)
    await new Promise((r) => setTimeout(r, 10));
  const sent = router.sent.filter((s) => addressToString(s.km.source) === 'fake.dev@probe-big:test:sys');
  assert.equal(sent.length, 1, 'the response went to the kernel');
  assert.equal(sent[0].km.target.node, 'other.dev');
  assert.equal(router.exits.get('fake.dev@probe-big:test:sys'), undefined, 'the process did not end');
});
