// fd-manager:distro:sys inside a real kernel: processes that ask for a share of the node's
// file-descriptor budget (60% of the ulimit less 30) get `{"FdsLimit": n}`, half of it split evenly
// and half by hit count as Hyperdrive's fd_manager.rs does, and the administrative requests report
// and retune. The module side (FdLimiter) counts each handle's real descriptors.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { NativeProcess } from '../../src/runtime/kernel/api.js';
import type { Kernel } from '../../src/runtime/kernel/kernel.js';
import { createFdManager } from '../../src/runtime/modules/fd-manager/index.js';
import { FdLimiter } from '../../src/runtime/modules/fd-manager/limiter.js';
import { FALLBACK_ULIMIT, parseOpenFilesLimit, readOpenFilesLimit, UNLIMITED_ULIMIT } from '../../src/runtime/modules/fd-manager/ulimit.js';
import { fromUtf8, type KernelMessage, messagingCap, type ProcessId, parseProcessId } from '../../src/core/types.js';
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

  it('gives the first process the whole budget (60% of the ulimit less 30), then splits it', async () => {
    kernel.tell(vfs.id, FD, '"RequestFdsLimit"');
    await tick();
    assert.deepEqual(vfs.limits, [570]);
    kernel.tell(kv.id, FD, '"RequestFdsLimit"');
    await tick();
    assert.deepEqual(vfs.limits, [570, 285]);
    assert.deepEqual(kv.limits, [285]);
  });

  it('counts FdsLimitHit, re-splits half the budget by hits, and reports with GetState and GetProcessFdLimit', async () => {
    kernel.tell(kv.id, FD, '"FdsLimitHit"');
    kernel.tell(kv.id, FD, '"FdsLimitHit"');
    // 570 / 2 evenly (142.5 each) + 285 by hits (1 : 3)
    assert.deepEqual(await ask(vfs.id, 'GetState'), {
      GetState: { 'vfs-like:distro:sys': { limit: 213, hit_count: 1 }, 'kv-like:distro:sys': { limit: 356, hit_count: 3 } },
    });
    assert.equal(kv.limits.at(-1), 356);
    assert.deepEqual(await ask(vfs.id, { GetProcessFdLimit: 'kv-like:distro:sys' }), { GetProcessFdLimit: 356 });
    assert.deepEqual(await ask(vfs.id, { GetProcessFdLimit: 'nobody:x:y' }), { GetProcessFdLimit: 0 });
  });

  it('retunes with UpdateMaxFdsAsFractionOfUlimitPercentage and tells everyone their new share', async () => {
    kernel.tell(vfs.id, FD, JSON.stringify({ UpdateMaxFdsAsFractionOfUlimitPercentage: 80 }));
    await tick();
    assert.equal(vfs.limits.at(-1), 288);
    assert.equal(kv.limits.at(-1), 481);
    kernel.tell(vfs.id, FD, JSON.stringify({ UpdateMaxFdsAsFractionOfUlimitPercentage: 500 }));
    kernel.tell(vfs.id, FD, JSON.stringify({ UpdateUpdateUlimitSecs: 60 }));
    kernel.tell(vfs.id, FD, JSON.stringify({ UpdateCullFractionDenominator: 4 }));
    assert.deepEqual((await ask(vfs.id, 'GetState')).GetState['vfs-like:distro:sys'].limit, 288, 'over 100% is refused');
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

  it('counts the descriptors each handle holds against the share: 4 per LevelDB', async () => {
    const closed: string[] = [];
    const limiter = new FdLimiter(
      () => kernel,
      parseProcessId('leveldb-like:distro:sys'),
      async (key) => {
        closed.push(key);
      },
      4,
    );
    const km = (body: unknown) =>
      ({
        id: 1n,
        source: FD,
        target: FD,
        message: { tag: 'request', val: { inherit: false, body: new TextEncoder().encode(JSON.stringify(body)), capabilities: [] } },
      }) as unknown as KernelMessage;
    assert.equal(limiter.takeLimit(km({ FdsLimit: 17 })), true);
    for (const k of ['a', 'b', 'c', 'd']) await limiter.admit(k);
    assert.deepEqual(limiter.stats(), { open: 4, fds: 16, limit: 17, hits: 0 }, 'four LevelDBs fit 17 descriptors');
    await limiter.admit('e');
    assert.deepEqual(closed, ['a', 'b'], 'the fifth would need 20: the older half closes');
    assert.equal(limiter.stats().fds, 12);
    // a smaller share closes what no longer fits at the next request
    limiter.takeLimit(km({ FdsLimit: 8 }));
    await limiter.enforce();
    assert.ok(limiter.stats().fds <= 8);
  });

  it('ignores malformed requests and FdsLimit sent to it, and keeps serving', async () => {
    kernel.tell(vfs.id, FD, 'not json');
    kernel.tell(vfs.id, FD, '{"FdsLimit": 5}');
    kernel.tell(vfs.id, FD, '"Nonsense"');
    assert.equal((await ask(kv.id, { GetProcessFdLimit: 'vfs-like:distro:sys' })).GetProcessFdLimit, 288);
  });
});

describe('fd-manager re-reads the open-files limit', () => {
  let home: string;
  let kernel: Kernel;
  const p = recorder(parseProcessId('reader-like:distro:sys'));
  let limit = 1000;
  let reads = 0;
  const source = () => {
    reads++;
    return limit;
  };
  const until = async (cond: () => boolean, what: string) => {
    for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(cond(), what);
  };

  before(async () => {
    home = mkdtempSync(join(tmpdir(), 'kit-fd-ulimit-'));
    kernel = bareKernel(OUR, home);
    // One "second" of UpdateUpdateUlimitSecs is 5 ms here: the default hour is 18 s, a period of 2 is 10 ms.
    await kernel.addNative(createFdManager({ readUlimit: source, secondMs: 5 }), [messagingCap({ node: OUR, process: p.id })]);
    await kernel.addNative(p, [messagingCap(FD)]);
    kernel.tell(p.id, FD, '"RequestFdsLimit"');
    await until(() => p.limits.length === 1, 'the first share');
  });
  after(async () => {
    await kernel.shutdown();
    rmSync(home, { recursive: true, force: true });
  });

  it('reads the limit at start and, at the default period of an hour, not again meanwhile', () => {
    assert.deepEqual(p.limits, [570]);
    assert.equal(reads, 1);
  });

  it('after UpdateUpdateUlimitSecs re-reads on the new period and re-splits a changed limit', async () => {
    kernel.tell(p.id, FD, JSON.stringify({ UpdateUpdateUlimitSecs: 2 }));
    await until(() => reads > 2, `re-read on the new period (reads: ${reads})`);
    assert.deepEqual(p.limits, [570], 'an unchanged limit changes no share');
    limit = 2000;
    await until(() => p.limits.length === 2, 'a new share after the limit changed');
    assert.deepEqual(p.limits, [570, 1170]);
    assert.deepEqual(JSON.parse(fromUtf8((await kernel.request(p.id, FD, '"GetState"', { timeoutSecs: 2 })).response.body)), {
      GetState: { 'reader-like:distro:sys': { limit: 1170, hit_count: 1 } },
    });
  });

  it('stops re-reading when the node stops', async () => {
    await kernel.shutdown();
    const at = reads;
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(reads, at);
  });
});

describe('the open-files limit from /proc/self/limits', () => {
  const text = (soft: string) =>
    `Limit                     Soft Limit           Hard Limit           Units     \nMax processes             63704                63704                processes \nMax open files            ${soft}                 524288               files     \n`;
  it('is the soft limit; "unlimited" is the Linux ceiling; anything else falls back to 1024', () => {
    assert.equal(parseOpenFilesLimit(text('4096')), 4096);
    assert.equal(parseOpenFilesLimit(text('unlimited')), UNLIMITED_ULIMIT);
    assert.equal(parseOpenFilesLimit('Max processes 5 5 processes\n'), undefined);
    assert.equal(readOpenFilesLimit('/nonexistent/limits'), FALLBACK_ULIMIT);
  });
  it('on this machine matches what the kernel says for this process', { skip: process.platform !== 'linux' }, () => {
    const soft = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1];
    assert.equal(readOpenFilesLimit(), Number(soft));
  });
});
