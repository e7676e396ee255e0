// Attack: kill -9 the node while a process is writing. Every write the node acknowledged (kv Set,
// sqlite Write, vfs Write, each answered "Ok" to the process, which then answered the test) must
// be there after the node boots again from the same home, in two rounds. (The sweep's figure:
// 0 of 34,728 acknowledged writes lost over 5 kill -9; this keeps that true. kill -9 is a crash of
// the node's process, not a power loss: nothing here calls fsync.)

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startPackage } from '../../src/package/start.js';
import { buildConformanceDriver, PUBLISHER, writeDriverPackage } from '../conformance/harness.js';
import { freePort } from '../e2e/helpers.js';
import { rpc, scratch, VICTIM, VICTIM_PACKAGE } from './helpers.js';

const CHILD = fileURLToPath(new URL('./node-child.js', import.meta.url));
const PKG = { package_name: 'victim', publisher_node: PUBLISHER };
const DRIVE = `/victim:${PUBLISHER}/durable`;
const WRITERS = 3;
const ACKED_PER_ROUND = 24;

interface Child {
  proc: ChildProcess;
  url: string;
}

function startChild(home: string, port: number): Promise<Child> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [CHILD, home, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout?.on('data', (d) => {
      out += d;
      if (/^ready \d+$/m.test(out)) resolve({ proc, url: `http://localhost:${port}` });
    });
    proc.stderr?.on('data', (d) => {
      out += d;
    });
    proc.once('exit', (code) => reject(new Error(`the node exited (${code}) before it was ready:\n${out}`)));
  });
}

function killed(child: Child): Promise<void> {
  return new Promise((resolve) => {
    child.proc.once('exit', () => resolve());
    child.proc.kill('SIGKILL');
  });
}

/** Have the victim send `body` (+ blob) to `target` and return the answer's body and blob. */
async function via(url: string, target: string, body: unknown, blob?: string): Promise<{ body: unknown; blob: string | null }> {
  const r = await rpc(url, VICTIM, {
    Send: {
      target,
      body64: Buffer.from(JSON.stringify(body)).toString('base64'),
      blob64: blob === undefined ? null : Buffer.from(blob).toString('base64'),
      mime: null,
      metadata: null,
      timeout: 30,
      attachAll: false,
    },
  });
  const answer = (JSON.parse(r.body) as { answer?: { body: string; blob: { base64: string } | null } }).answer;
  assert.ok(answer, `no answer from ${target}: ${r.body}`);
  return { body: JSON.parse(answer.body), blob: answer.blob ? Buffer.from(answer.blob.base64, 'base64').toString() : null };
}

const key = (i: number) => Array.from(Buffer.from(`k${i}`));

async function openStores(url: string): Promise<void> {
  assert.deepEqual((await via(url, 'kv:distro:sys', { package_id: PKG, db: 'd', action: 'Open' })).body, 'Ok');
  assert.deepEqual((await via(url, 'sqlite:distro:sys', { package_id: PKG, db: 'd', action: 'Open' })).body, 'Ok');
}

/** One acknowledged op: the same value into kv, sqlite and vfs. */
async function write(url: string, i: number): Promise<void> {
  const v = `value ${i}`;
  const kv = await via(url, 'kv:distro:sys', { package_id: PKG, db: 'd', action: { Set: { key: key(i), tx_id: null } } }, v);
  assert.deepEqual(kv.body, 'Ok');
  const sql = await via(url, 'sqlite:distro:sys', { package_id: PKG, db: 'd', action: { Write: { statement: 'INSERT INTO t (id, v) VALUES (?, ?)', tx_id: null } } }, JSON.stringify([i, v]));
  assert.deepEqual(sql.body, 'Ok');
  const file = await via(url, 'vfs:distro:sys', { path: `${DRIVE}/f${i}`, action: 'Write' }, v);
  assert.deepEqual(file.body, 'Ok');
}

describe('attack: kill -9 while writing', { timeout: 900_000 }, () => {
  const work = scratch('kit-kill9-');
  const home = join(work.dir, 'home');
  let port: number;
  let child: Child | undefined;

  before(async () => {
    port = await freePort();
    child = await startChild(home, port);
    const dir = join(work.dir, 'victim');
    await writeDriverPackage(dir, VICTIM_PACKAGE, await buildConformanceDriver());
    await startPackage({ packageDir: dir, url: child.url });
    await openStores(child.url);
    const create = { package_id: PKG, db: 'd', action: { Write: { statement: 'CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)', tx_id: null } } };
    assert.deepEqual((await via(child.url, 'sqlite:distro:sys', create)).body, 'Ok');
    assert.deepEqual((await via(child.url, 'vfs:distro:sys', { path: DRIVE, action: 'CreateDrive' })).body, 'Ok');
  });
  after(async () => {
    if (child && child.proc.exitCode === null && child.proc.signalCode === null) await killed(child);
    work.remove();
  });

  it('loses no acknowledged kv, sqlite or vfs write over two kills', async () => {
    const acked: number[] = [];
    let next = 0;
    for (let round = 0; round < 2; round++) {
      const c = child as Child;
      const target = acked.length + ACKED_PER_ROUND;
      let killing: Promise<void> | undefined;
      // Writers run until the node dies under them; the kill comes while writes are in flight.
      const writer = async () => {
        for (;;) {
          const i = next++;
          try {
            await write(c.url, i);
          } catch {
            return; // the node was killed mid-write: this one was never acknowledged
          }
          acked.push(i);
          if (acked.length >= target && !killing) killing = killed(c);
        }
      };
      await Promise.all(Array.from({ length: WRITERS }, writer));
      await killing;

      child = await startChild(home, port);
      const url = child.url;
      await openStores(url);
      const rows = await via(url, 'sqlite:distro:sys', { package_id: PKG, db: 'd', action: { Query: 'SELECT id, v FROM t ORDER BY id' } });
      const inSql = new Map((JSON.parse(rows.blob ?? '[]') as Array<{ id: number; v: string }>).map((r) => [r.id, r.v]));
      for (const i of acked) {
        const v = `value ${i}`;
        assert.equal(inSql.get(i), v, `round ${round}: acknowledged sqlite row ${i} is gone`);
        const kv = await via(url, 'kv:distro:sys', { package_id: PKG, db: 'd', action: { Get: key(i) } });
        assert.equal(kv.blob, v, `round ${round}: acknowledged kv key k${i} is gone (${JSON.stringify(kv.body)})`);
        const file = await via(url, 'vfs:distro:sys', { path: `${DRIVE}/f${i}`, action: 'Read' });
        assert.equal(file.blob, v, `round ${round}: acknowledged file f${i} is gone (${JSON.stringify(file.body)})`);
      }
    }
    assert.ok(acked.length >= 2 * ACKED_PER_ROUND);
  });
});
