// Attack: slowloris-style clients that start a request (headers and part of a body promised by
// Content-Length) and vanish, on the kit RPC and on a process's bound path. Before the fix each
// one wrote an ERROR line to the node's log (the sweep got about 2,000 of them); a client that
// goes away is not the node's error. The node must log nothing at ERROR and go on serving.

import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { assertIntact, bootTarget, rawRequest, type Target } from './helpers.js';

describe('attack: requests abandoned halfway', { timeout: 600_000 }, () => {
  let t: Target;

  before(async () => {
    t = await bootTarget();
    const driver = t.c.driver('driver', 'victim');
    assert.deepEqual(await driver.json('http-server:distro:sys', { Bind: { path: '/upload', authenticated: false, local_only: false, cache: false } }), {
      Ok: null,
    });
  });
  after(async () => {
    await t?.stop();
  });

  it('leaves no ERROR lines and the node serves on', async () => {
    const paths = ['/rpc:distro:sys/message', '/driver:victim:kit-tests.os/upload'];
    const abandon = (path: string) =>
      new Promise<void>((resolve) => {
        const s = connect(t.node.port, '127.0.0.1', async () => {
          s.write(`POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"process": "`);
          // Once another request has been answered, the node has read these headers too and is
          // waiting for the rest of the body: then the client vanishes.
          await rawRequest(t.node.port, { path: '/our' });
          s.resetAndDestroy();
        });
        s.on('error', () => {});
        s.on('close', () => resolve());
      });
    for (let round = 0; round < 10; round++) await Promise.all(paths.flatMap((p) => [abandon(p), abandon(p), abandon(p)]));
    await assertIntact(t);
    assert.deepEqual(t.errors, [], 'abandoned requests are not errors of the node');
  });
});
