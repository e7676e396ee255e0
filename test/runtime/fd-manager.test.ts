// fd-manager:distro:sys inside a real kernel: processes that ask for a share of the node's
// file-descriptor budget get `{"FdsLimit": n}`, shares shrink as more processes ask, and the
// administrative requests report and retune.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { NativeProcess } from '../../src/runtime/kernel/api.js';
import type { Kernel } from '../../src/runtime/kernel/kernel.js';
import { createFdManager } from '../../src/runtime/modules/fd-manager/index.js';
import { FdLimiter } from '../../src/runtime/modules/fd-manager/limiter.js';
import { fromUtf8, type KernelMessage, messagingCap, type ProcessId, parseProcessId } from '../../src/runtime/types.js';
import { bareKernel } from './helpers.js';

const OUR = 'fake.dev';
const FD = { node: OUR, process: parseProcessId('fd-manager:distro:sys') };

function recorder(id: ProcessId): NativeProcess & { limits: number[]; culls: number[] } {
  const limits: number[] = [];
  const culls: number[] = [];
  return {
    id,
    limits,
    culls,
    handle(km: KernelMessage) {
      if (km.message.tag !== 'request') return;
      const body = JSON.parse(fromUtf8(km.message.val.body)) as { FdsLimit?: number; CullFractionDenominator?: number };
      if (typeof body.FdsLimit === 'number') limits.push(body.FdsLimit);
      if (typeof body.CullFractionDenominator === 'number') culls.push(body.CullFractionDenominator);
    },
  };
}

describe('fd-manager:distro:sys', () => {
  let home: string;
  let kernel: Kernel;
  const vfs = recorder(parseProcessId('vfs-like:distro:sys'));
  const kv = recorder(parseProcessId('kv-like:distro:sys'));
  const tick = () => new Promise((r) => setTimeout(r, 5));
  const ask = async (source: ProcessId, body: unknown) =>
    JSON.parse(fromUtf8((await kernel.request(source, FD, JSON.stringify(body), { timeoutSecs: 2 })).response.body));

  before(async () => {
    home = mkdtempSync(join(tmpdir(), 'kit-fd-'));
    kernel = bareKernel(OUR, home);
    await kernel.addNative(createFdManager({ ulimit: 1000 }), [messagingCap({ node: OUR, process: vfs.id }), messagingCap({ node: OUR, process: kv.id })]);
    for (const p of [vfs, kv]) await kernel.addNative(p, [messagingCap(FD)]);
  });
  after(async () => {
    await kernel.shutdown();
    rmSync(home, { recursive: true, force: true });
  });

  it('gives the first process the whole budget (60% of the ulimit), then splits it', async () => {
    kernel.tell(vfs.id, FD, '"RequestFdsLimit"');
    await tick();
    assert.deepEqual(vfs.limits, [600]);
    kernel.tell(kv.id, FD, '"RequestFdsLimit"');
    await tick();
    assert.deepEqual(vfs.limits, [600, 300]);
    assert.deepEqual(kv.limits, [300]);
  });

  it('counts FdsLimitHit and reports with GetState and GetProcessFdLimit', async () => {
    kernel.tell(kv.id, FD, '"FdsLimitHit"');
    kernel.tell(kv.id, FD, '"FdsLimitHit"');
    assert.deepEqual(await ask(vfs.id, 'GetState'), {
      GetState: { 'vfs-like:distro:sys': { limit: 300, hit_count: 0 }, 'kv-like:distro:sys': { limit: 300, hit_count: 2 } },
    });
    assert.deepEqual(await ask(vfs.id, { GetProcessFdLimit: 'kv-like:distro:sys' }), { GetProcessFdLimit: 300 });
    assert.deepEqual(await ask(vfs.id, { GetProcessFdLimit: 'nobody:x:y' }), { GetProcessFdLimit: 0 });
  });

  it('retunes with UpdateMaxFdsAsFractionOfUlimitPercentage and tells everyone their new share', async () => {
    kernel.tell(vfs.id, FD, JSON.stringify({ UpdateMaxFdsAsFractionOfUlimitPercentage: 80 }));
    await tick();
    assert.equal(vfs.limits.at(-1), 400);
    assert.equal(kv.limits.at(-1), 400);
    kernel.tell(vfs.id, FD, JSON.stringify({ UpdateMaxFdsAsFractionOfUlimitPercentage: 500 }));
    kernel.tell(vfs.id, FD, JSON.stringify({ UpdateUpdateUlimitSecs: 60 }));
    kernel.tell(vfs.id, FD, JSON.stringify({ UpdateCullFractionDenominator: 4 }));
    assert.deepEqual((await ask(vfs.id, 'GetState')).GetState['vfs-like:distro:sys'].limit, 400, 'over 100% is refused');
    assert.deepEqual([vfs.culls, kv.culls], [[4], [4]], 'the runtime modules are told the new cull fraction');
  });

  it('passes UpdateCullFractionDenominator on to the runtime modules that keep handles', async () => {
    // A module's limiter at a share of 4, full: the next handle makes it close 1/4 of them (not half).
    const closed: string[] = [];
    const limiter = new FdLimiter(() => kernel, parseProcessId('cull-like:distro:sys'), async (key) => {
      closed.push(key);
    });
    const km = (body: unknown) =>
      ({
        id: 1n,
        source: FD,
        target: FD,
        message: { tag: 'request', val: { inherit: false, body: new TextEncoder().encode(JSON.stringify(body)), capabilities: [] } },
      }) as unknown as KernelMessage;
    assert.equal(limiter.takeLimit(km({ FdsLimit: 4 })), true);
    assert.equal(limiter.takeLimit(km({ CullFractionDenominator: 4 })), true);
    for (const k of ['a', 'b', 'c', 'd', 'e']) await limiter.admit(k);
    assert.deepEqual(closed, ['a'], 'a quarter of 4 handles');
  });

  it('ignores malformed requests and FdsLimit sent to it, and keeps serving', async () => {
    kernel.tell(vfs.id, FD, 'not json');
    kernel.tell(vfs.id, FD, '{"FdsLimit": 5}');
    kernel.tell(vfs.id, FD, '"Nonsense"');
    assert.equal((await ask(kv.id, { GetProcessFdLimit: 'vfs-like:distro:sys' })).GetProcessFdLimit, 400);
  });
});
