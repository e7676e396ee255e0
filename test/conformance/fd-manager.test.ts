// fd-manager:distro:sys from inside a component, as Hyperdrive 1.9.2 answers (hyperdrive/src/
// fd_manager.rs, lib/src/fd_manager.rs): RequestFdsLimit registers the sender with one hit and
// every registered process is sent `{"FdsLimit": n}` (half the budget split evenly, half by hit
// count); FdsLimitHit counts and re-splits; GetState and GetProcessFdLimit answer a caller that
// awaits them; anything else is ignored. kv, sqlite, vfs and net register as they start, as Hyperdrive's do.
// Beyond Hyperdrive, kv counts the descriptors each LevelDB really holds (4), so opening many
// databases keeps kv inside its share and other packages keep working.

import assert from 'node:assert/strict';
import { readdirSync, readlinkSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { bootConformanceNode, type ConformanceNode, type DriverHandle, PUBLISHER } from './harness.js';

const FD = 'fd-manager:distro:sys';
const KV = 'kv:distro:sys';
/** A static budget (Hyperdrive's --soft-ulimit), so the shares are known numbers. */
const BUDGET = 120;

describe('conformance: fd-manager', { timeout: 300_000 }, () => {
  let c: ConformanceNode;
  let driver: DriverHandle;
  const DRIVER = `driver:fd-conf:${PUBLISHER}`;
  const state = async () => JSON.parse((await driver.answer(FD, '"GetState"')).body).GetState as Record<string, { limit: number; hit_count: number }>;

  before(async () => {
    const proc = (name: string) => ({
      name,
      request_capabilities: ['http-server:distro:sys', FD, KV],
      grant_capabilities: ['http-server:distro:sys', FD, KV],
    });
    c = await bootConformanceNode(
      [
        { name: 'fd-conf', processes: [proc('driver')] },
        { name: 'fd-hog', processes: [proc('main')] },
        { name: 'fd-victim', processes: [proc('main')] },
      ],
      { softUlimit: BUDGET },
    );
    driver = c.driver('driver', 'fd-conf');
  });
  after(async () => {
    await c?.stop();
  });

  // hyperdrive/src/{kv,sqlite,vfs}.rs and net/mod.rs each send RequestFdsLimit as they start.
  it('kv, sqlite, vfs and net registered as they started, one hit each, the budget split among them (GetState)', async () => {
    const s = await state();
    assert.deepEqual(Object.keys(s).sort(), [KV, 'net:distro:sys', 'sqlite:distro:sys', 'vfs:distro:sys']);
    // half (60) evenly over four, half by hits (one each of four): 15 + 15
    for (const m of Object.keys(s)) assert.deepEqual(s[m], { limit: 30, hit_count: 1 }, m);
  });

  it('RequestFdsLimit registers the sender, which is sent {"FdsLimit": n} as a Request; FdsLimitHit re-splits by hits', async () => {
    await driver.inbox();
    assert.deepEqual(await driver.send(FD, '"RequestFdsLimit"', { timeout: null }), { sent: true });
    // half (60) evenly over five, half by hits (1 of 5): 12 + 12
    assert.deepEqual(JSON.parse((await driver.answer(FD, { GetProcessFdLimit: DRIVER })).body), { GetProcessFdLimit: 24 });
    const first = (await driver.inbox()).filter((m) => m.request?.source === `fake.dev@${FD}`).map((m) => m.request!.body);
    assert.deepEqual(first, ['{"FdsLimit":24}']);
    await driver.send(FD, '"FdsLimitHit"', { timeout: null });
    // 12 + 60 / 6 hits * 2
    assert.deepEqual((await state())[DRIVER], { limit: 32, hit_count: 2 });
    const second = (await driver.inbox()).filter((m) => m.request?.source === `fake.dev@${FD}`).map((m) => m.request!.body);
    assert.deepEqual(second, ['{"FdsLimit":32}']);
    assert.deepEqual(JSON.parse((await driver.answer(FD, { GetProcessFdLimit: 'nobody:nothing:x.os' })).body), { GetProcessFdLimit: 0 });
  });

  it('ignores FdsLimit sent to it and anything that is not an FdManagerRequest (no answer)', async () => {
    for (const body of ['{"FdsLimit": 5}', '"Nonsense"', 'not json', '{"GetProcessFdLimit": 5}'])
      assert.deepEqual(await driver.send(FD, body, { timeout: 1 }), { sendError: { kind: 'timeout', target: `fake.dev@${FD}` } }, body);
  });

  it('kv keeps the descriptors its LevelDBs hold inside its share, however many dbs a package opens; others keep working', async () => {
    const hog = c.driver('main', 'fd-hog');
    const hogPkg = { package_name: 'fd-hog', publisher_node: PUBLISHER };
    for (let i = 0; i < 40; i++) {
      const db = `db${i}`;
      assert.equal(JSON.parse((await hog.answer(KV, { package_id: hogPkg, db, action: 'Open' })).body), 'Ok');
      assert.equal(JSON.parse((await hog.answer(KV, { package_id: hogPkg, db, action: { Set: { key: [1], tx_id: null } } }, { blob: db })).body), 'Ok');
    }
    // every db still answers (closed ones reopen)
    const first = await hog.answer(KV, { package_id: hogPkg, db: 'db0', action: { Get: [1] } });
    assert.equal(Buffer.from(first.blob!.base64, 'base64').toString(), 'db0');
    // the node holds no more LevelDB descriptors than kv's share: 4 per open db (LOCK is one of them)
    const kvShare = (await state())[KV].limit;
    const locks = readdirSync('/proc/self/fd').filter((fd) => {
      try {
        const target = readlinkSync(`/proc/self/fd/${fd}`);
        return target.startsWith(c.node.home) && target.endsWith('/LOCK');
      } catch {
        return false;
      }
    }).length;
    assert.ok(locks > 0 && locks * 4 <= kvShare, `${locks} open LevelDBs x 4 descriptors within kv's share of ${kvShare}`);
    const victim = c.driver('main', 'fd-victim');
    const victimPkg = { package_name: 'fd-victim', publisher_node: PUBLISHER };
    assert.equal(JSON.parse((await victim.answer(KV, { package_id: victimPkg, db: 'mine', action: 'Open' })).body), 'Ok');
    assert.equal(JSON.parse((await victim.answer(KV, { package_id: victimPkg, db: 'mine', action: { Set: { key: [1], tx_id: null } } }, { blob: 'v' })).body), 'Ok');
    assert.ok((await state())[KV].hit_count > 1, 'kv reported hitting its limit');
  });
});
