// Attack: a process answers a kit RPC with a ~100 MB blob. The RPC answer carries the blob as the
// real node does (base64 text, then that text's bytes as a JSON number array: ~450 MB of JSON).
// Before the fix the node built that as one string and V8 aborted the whole node (out of memory,
// not catchable) from about 90 MB. Now the answer streams out piece by piece: the node lives, the
// client gets every byte, and other processes keep answering while it is on its way.

import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { assertIntact, bootTarget, buildProcessFixture, ECHO, installComponent, rpc, rpcBody, type Target } from './helpers.js';

const BLOB_BYTES = 100_000_000;

/**
 * Reads `{"body":[..],"lazy_load_blob":{"mime":..,"bytes":[n,n,..]}}` as it streams in, keeping
 * only the blob's base64 text (the test never holds the ~450 MB of JSON either).
 */
class BlobBytesReader {
  private prefix = '';
  private inBytes = false;
  private done = false;
  private current = -1;
  private readonly ascii: Buffer;
  private length = 0;
  tail = '';

  constructor(expectedAscii: number) {
    this.ascii = Buffer.alloc(expectedAscii);
  }

  push(chunk: Buffer): void {
    let i = 0;
    if (!this.inBytes) {
      this.prefix += chunk.toString('latin1');
      const at = this.prefix.indexOf('"bytes":[');
      if (at < 0) return;
      this.inBytes = true;
      chunk = Buffer.from(this.prefix.slice(at + '"bytes":['.length), 'latin1');
    }
    if (this.done) {
      this.tail += chunk.toString('latin1');
      return;
    }
    for (; i < chunk.length; i++) {
      const c = chunk[i];
      if (c >= 48 && c <= 57) this.current = (this.current < 0 ? 0 : this.current * 10) + (c - 48);
      else if (c === 44 || c === 93) {
        if (this.current >= 0) this.ascii[this.length++] = this.current;
        this.current = -1;
        if (c === 93) {
          this.done = true;
          this.tail = chunk.subarray(i + 1).toString('latin1');
          return;
        }
      } else throw new Error(`unexpected byte ${c} in the blob's number array`);
    }
  }

  blob(): Buffer {
    assert.ok(this.done, 'the number array was closed');
    return Buffer.from(this.ascii.subarray(0, this.length).toString('latin1'), 'base64');
  }
}

describe('attack: a process answers an RPC with a 100 MB blob', { timeout: 900_000 }, () => {
  let t: Target;
  let big: string;

  before(async () => {
    t = await bootTarget();
    big = await installComponent(t.c, 'bigpkg', 'big', await buildProcessFixture('big-answer.js'), ['http-server:distro:sys']);
  });
  after(async () => {
    await t?.stop();
  });

  it('streams the whole answer, other processes answer meanwhile, and the node lives', async () => {
    const reader = new BlobBytesReader(Math.ceil(BLOB_BYTES / 3) * 4);
    let echoedMidway = false;
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: t.node.port, method: 'POST', path: '/rpc:distro:sys/message', headers: { 'content-type': 'application/json' }, agent: false },
        (res) => {
          let first = true;
          res.on('data', (chunk: Buffer) => {
            reader.push(chunk);
            if (!first) return;
            first = false;
            // The answer has begun: hold it and ask another process something; its answer comes
            // back while ours is still on its way.
            res.pause();
            rpc(t.node.url, ECHO, 'meanwhile').then((r) => {
              echoedMidway = r.body === 'meanwhile' && !res.complete;
              res.resume();
            }, reject);
          });
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(rpcBody(big, { Fill: BLOB_BYTES }, 300));
    });
    assert.equal(status, 200);
    assert.equal(reader.tail, '}}', 'the JSON ends after the blob');
    assert.ok(echoedMidway, 'another process answered while the big answer was streaming');
    const blob = reader.blob();
    assert.equal(blob.length, BLOB_BYTES);
    for (const i of [0, 1, 2, 12_345_678, BLOB_BYTES - 1]) assert.equal(blob[i], (i * 31 + 7) & 255, `byte ${i}`);
    await assertIntact(t);
  });
});
