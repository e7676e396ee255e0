// A process lives inside one call of `init`, and componentize-js frees what the guest allocates
// for import arguments only when an export returns (see src/runtime/process/arg-reclaim.ts).
// These tests run real components for tens of thousands of messages with the host freeing those
// allocations as it goes: every message must still arrive intact (freeing too much would garble
// them) and the runtime's list of allocations must stay short (freeing too little leaks).

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildFixture } from '../../src/build/componentize.js';
import { runInThread, StopGuest } from '../../src/runtime/process/in-thread.js';
import type { ToWorker } from '../../src/runtime/process/protocol.js';
import { type Address, fromUtf8, type KernelMessage, parseProcessId, utf8 } from '../../src/core/types.js';
import { fixture, NODE, ROOT, testLog } from './helpers.js';

const TOTAL = 20000;
/** The host frees once 16 entries have piled up; a few more may belong to the call in progress. */
const MOST_PENDING = 32;
const sender: Address = { node: NODE, process: parseProcessId('sender:test:sys') };
const echoAddress: Address = { node: NODE, process: parseProcessId('echo:test:sys') };

function request(id: bigint, target: Address, body: Uint8Array, metadata: string | undefined): KernelMessage {
  return {
    id,
    source: sender,
    target,
    rsvp: undefined,
    message: { tag: 'request', val: { inherit: false, expectsResponse: 5n, body, metadata, capabilities: [] } },
    lazyLoadBlob: undefined,
  };
}

test('an echo process answers 20,000 requests intact while the host frees its argument memory', async () => {
  const wasm = await fixture('echo');
  let n = 0;
  let answered = 0;
  let sent: { body: Uint8Array; metadata: string | undefined } | undefined;
  const run = await runInThread(wasm, echoAddress, {
    pull(): ToWorker {
      if (n === TOTAL) throw new StopGuest('done');
      n++;
      // bodies of every size up to 4 KiB and non-ASCII metadata: what a wrong free would garble
      const body = new Uint8Array(n % 4096).map((_, i) => (i * 31 + n) & 0xff);
      const metadata = n % 3 === 0 ? undefined : `meta ${n} — ünïcödé`;
      sent = { body, metadata };
      return { t: 'msg', km: request(BigInt(n), echoAddress, body, metadata) };
    },
    post(m) {
      if (m.t !== 'send' || m.km.message.tag !== 'response') return;
      const [response] = m.km.message.val;
      assert.ok(sent);
      assert.deepEqual(response.body, sent.body, `response ${n} has a different body`);
      assert.equal(response.metadata, sent.metadata, `response ${n} has different metadata`);
      answered++;
    },
  });
  assert.equal(answered, TOTAL);
  assert.ok(run.reclaimer.reclaims > 100, `the host freed argument memory only ${run.reclaimer.reclaims} times`);
  const pending = run.reclaimer.pendingAllocations();
  assert.ok(pending !== undefined && pending <= MOST_PENDING, `${pending} argument allocations piled up`);
});

test('a process that only ever calls send-and-await-response is freed as it goes too', async () => {
  const pinger = await buildFixture(join(ROOT, 'bench/fixtures/pinger.js'), { log: testLog, witPath: join(ROOT, 'wit', 'hyperware.wit') });
  const our: Address = { node: NODE, process: parseProcessId('pinger:test:sys') };
  let started = false;
  let last: KernelMessage | undefined;
  let calls = 0;
  let answer = '';
  // freshLayouts: the pinger learns where componentize-js keeps its list by itself, though it
  // never calls an import that returns nothing until its very last answer
  const run = await runInThread(pinger, our, {
    pull(): ToWorker {
      if (!started) {
        started = true;
        return { t: 'msg', km: request(0n, our, utf8(JSON.stringify({ n: TOTAL, target: echoAddress })), undefined) };
      }
      if (!last) throw new Error('the pinger waited without sending');
      const km: KernelMessage = {
        id: last.id,
        source: echoAddress,
        target: our,
        rsvp: undefined,
        message: { tag: 'response', val: [{ inherit: false, body: utf8(`pong ${calls}`), metadata: undefined, capabilities: [] }, undefined] },
        lazyLoadBlob: undefined,
      };
      last = undefined;
      return { t: 'msg', km };
    },
    post(m) {
      if (m.t !== 'send') return;
      if (m.km.message.tag === 'request') {
        calls++;
        last = m.km;
      } else {
        answer = fromUtf8(m.km.message.val[0].body);
        throw new StopGuest('done');
      }
    },
  }, { freshLayouts: true });
  assert.equal(answer, String(TOTAL), 'the pinger got every response');
  assert.ok(run.reclaimer.reclaims > 100, `the host freed argument memory only ${run.reclaimer.reclaims} times`);
  const pending = run.reclaimer.pendingAllocations();
  assert.ok(pending !== undefined && pending <= MOST_PENDING, `${pending} argument allocations piled up`);
});
