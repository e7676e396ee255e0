// Attack: leave sockets the node cannot finish: an upgrade it refused (404, nothing bound there)
// after which the client, which keeps its side open, sends a few more bytes; and a WebSocket at
// `/` that never registers. Before the fix the refused socket was ended but never read or
// destroyed, so the HTTP server's close() waited for it forever: SIGTERM printed "stopping..."
// and the node never exited, nor removed its home. Now the node stops and removes its home.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { assertIntact, bootTarget } from './helpers.js';

const UPGRADE = (path: string) =>
  `GET ${path} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;

/** A client that keeps its half of the connection open after the node ends its own (as curl or a script may). */
async function openClient(port: number, path: string): Promise<{ socket: Socket; answer: string }> {
  const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  socket.on('error', () => {});
  await new Promise<void>((r) => socket.once('connect', () => r()));
  socket.write(UPGRADE(path));
  const answer = await new Promise<string>((r) => socket.once('data', (d) => r(String(d))));
  return { socket, answer };
}

describe('attack: sockets left open across a shutdown', { timeout: 600_000 }, () => {
  it('a refused upgrade followed by more bytes, and an unregistered WebSocket, do not keep the node from stopping', async () => {
    const t = await bootTarget();
    let stopped = false;
    try {
      const refused = await openClient(t.node.port, '/nothing-bound-here');
      assert.match(refused.answer, /^HTTP\/1\.1 404 /);
      refused.socket.write('a few more bytes');
      const pending = await openClient(t.node.port, '/');
      assert.match(pending.answer, /^HTTP\/1\.1 101 /);
      await assertIntact(t);
      await t.stop();
      stopped = true;
      assert.equal(existsSync(t.node.home), false, 'the home of a node without --persist is removed');
      refused.socket.destroy();
      pending.socket.destroy();
    } finally {
      if (!stopped) await t.stop();
    }
  });
});
