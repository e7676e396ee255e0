// The node's quotas (src/runtime/quotas.ts): defaults, then environment variables, then what the
// boot asks for; a bad value is refused with the variable's name; refusals name what raises them.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { changedQuotas, defaultQuotas, QUOTA_SETTINGS, QuotaConfigError, raiseWith, resolveQuotas } from '../../src/runtime/quotas.js';

const MIB = 1024 * 1024;

test('the defaults hold with no variables; variables count MiB where the flag does', () => {
  assert.deepEqual(resolveQuotas({}, {}), defaultQuotas());
  const q = resolveQuotas({}, { KIT_MAILBOX_MB: '64', KIT_PEER_BUFFER_MB: '12', KIT_TIMERS_PER_PROCESS: '5', KIT_MAX_PASSTHROUGHS: '0', KIT_MAX_PROCESSES: '' });
  assert.equal(q.mailboxBytes, 64 * MIB);
  assert.equal(q.maxBufferedBytes, 12 * MIB);
  assert.equal(q.timersPerProcess, 5);
  assert.equal(q.maxPassthroughs, 0, 'zero passthroughs is allowed (Hyperdrive\'s own default)');
  assert.equal(q.maxProcesses, defaultQuotas().maxProcesses, 'an empty variable is unset');
  assert.deepEqual(changedQuotas(q), ['mailbox-mb 64', 'timers-per-process 5', 'peer-buffer-mb 12', 'max-passthroughs 0']);
});

test('what the boot asks for wins over the variables', () => {
  const q = resolveQuotas({ timersPerProcess: 7, maxProcesses: undefined }, { KIT_TIMERS_PER_PROCESS: '5', KIT_MAX_PROCESSES: '9' });
  assert.equal(q.timersPerProcess, 7);
  assert.equal(q.maxProcesses, 9);
});

test('bad values are refused with the variable, the rule and what it sets', () => {
  assert.throws(() => resolveQuotas({}, { KIT_PEER_CONNECTIONS: '0' }), (e: Error) => e instanceof QuotaConfigError && /KIT_PEER_CONNECTIONS=0: give a whole number of at least 1 \(most connections one peer node/.test(e.message));
  assert.throws(() => resolveQuotas({}, { KIT_MAILBOX_MB: '1.5' }), /KIT_MAILBOX_MB=1\.5: give a whole number of at least 1 \(MiB\)/);
  assert.throws(() => resolveQuotas({}, { KIT_PROCESS_MEMORY_MB: '5000' }), /5000 MiB is over wasm32's 4096 MiB \(--process-memory-mb or KIT_PROCESS_MEMORY_MB\)/);
});

test("each variable is its flag's name as KIT_ and capitals, as README says", () => {
  for (const s of Object.values(QUOTA_SETTINGS)) assert.equal(s.env, `KIT_${s.flag.toUpperCase().replaceAll('-', '_')}`);
});

test('a refusal names the flag and the variable that raise the quota', () => {
  assert.equal(raiseWith('maxProcesses'), '--max-processes or KIT_MAX_PROCESSES');
  assert.equal(raiseWith('maxPassthroughs'), '-- --max-passthroughs or KIT_MAX_PASSTHROUGHS', "Hyperdrive's flag goes after --");
});
