// WebSockets in http-server:distro:sys over real sockets (`ws` clients), with the real kernel
// routing to a native process: bind, open/push/close events, pushes from the process, login,
// unbind, and the 128-socket cap.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import type { NativeProcess } from '../../src/runtime/kernel/api.js';
import type { Kernel } from '../../src/runtime/kernel/kernel.js';
import { createHttpServer, type HttpServerModule } from '../../src/runtime/modules/http-server/index.js';
import { fromUtf8, type KernelMessage, messagingCap, parseProcessId, utf8 } from '../../src/core/types.js';
import { bareKernel } from './helpers.js';

const OUR = 'fake.dev';
const HTTP = { node: OUR, process: parseProcessId('http-server:distro:sys') };
const APP_ID = 'app:chat:template.os';

async function until<T>(f: () => T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const v = f();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('http-server WebSockets', () => {
  let home: string;
  let kernel: Kernel;
  let http: HttpServerModule;
  const got: Array<{ body: Record<string, unknown>; blob?: string }> = [];
  const app: NativeProcess = {
    id: parseProcessId(APP_ID),
    handle(km: KernelMessage) {
      if (km.message.tag !== 'request') return;
      got.push({ body: JSON.parse(fromUtf8(km.message.val.body)), blob: km.lazyLoadBlob && fromUtf8(km.lazyLoadBlob.bytes) });
    },
  };
  const act = async (action: unknown, blob?: string) =>
    JSON.parse(fromUtf8((await kernel.request(app.id, HTTP, JSON.stringify(action), { blob: blob ? { bytes: utf8(blob) } : undefined })).response.body));
  const connect = (path: string, headers: Record<string, string> = {}) =>
    new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${http.port}/${APP_ID}${path}`, { headers });
      ws.once('open', () => resolve(ws));
      ws.once('unexpected-response', (_q, res) => {
        let body = '';
        res.on('data', (d) => {
          body += d;
        });
        res.on('end', () => reject(new Error(`HTTP ${res.statusCode}: ${body}`)));
      });
      ws.once('error', reject);
    });
  const event = (kind: string, after = 0) => until(() => got.slice(after).find((g) => kind in g.body), kind);

  before(async () => {
    home = mkdtempSync(join(tmpdir(), 'kit-ws-'));
    kernel = bareKernel(OUR, home);
    http = await createHttpServer({ port: 0, host: '127.0.0.1', kernel, fakeNode: true });
    await kernel.addNative(http, [messagingCap({ node: OUR, process: app.id })]);
    await kernel.addNative(app, [messagingCap(HTTP)]);
    http.ready();
  });
  after(async () => {
    await http.close();
    await kernel.shutdown();
    rmSync(home, { recursive: true, force: true });
  });

  it('refuses upgrades on unbound paths with 404', async () => {
    await assert.rejects(connect('/nothing'), /HTTP 404/);
  });

  it('delivers WebSocketOpen, WebSocketPush (+blob) and WebSocketClose; pushes go back to the client', async () => {
    assert.deepEqual(await act({ WebSocketBind: { path: '/ws', authenticated: false, extension: false } }), { Ok: null });
    const ws = await connect('/ws?x=1', { 'x-forwarded-for': '10.0.0.9, 10.0.0.1' });
    const open = (await event('WebSocketOpen')).body.WebSocketOpen as Record<string, unknown>;
    // hyperdrive/src/http/server.rs ws_handler: the request path with the process id stripped,
    // and get_forwarded_ip's first X-Forwarded-For entry.
    assert.equal(open.path, '/ws');
    assert.equal(open.forwarded_for, '10.0.0.9');
    assert.match(String(open.source_socket_addr), /^127\.0\.0\.1:\d+$/);
    const id = open.channel_id as number;
    assert.ok(Number.isInteger(id) && id > 0 && id < 2 ** 32);

    const mark = got.length;
    ws.send(Buffer.from([1, 2, 3]));
    const push = await event('WebSocketPush', mark);
    assert.deepEqual(push.body, { WebSocketPush: { channel_id: id, message_type: 'Binary' } });
    // Control frames from the client reach the process too (server.rs maintain_websocket).
    const mark1 = got.length;
    ws.ping('hi');
    const ping = await event('WebSocketPush', mark1);
    assert.deepEqual(ping, { body: { WebSocketPush: { channel_id: id, message_type: 'Ping' } }, blob: 'hi' });

    const text = new Promise<string>((r) => ws.once('message', (d) => r(d.toString())));
    assert.deepEqual(await act({ WebSocketPush: { channel_id: id, message_type: 'Text' } }, 'from app'), { Ok: null });
    assert.equal(await text, 'from app');
    const pong = new Promise<string>((r) => ws.once('ping', (d) => r(d.toString())));
    assert.deepEqual(await act({ WebSocketPush: { channel_id: id, message_type: 'Ping' } }, 'p'), { Ok: null });
    assert.equal(await pong, 'p');
    // The client's automatic Pong comes back to the process as well.
    const answered = await until(() => got.find((g) => (g.body.WebSocketPush as { message_type?: string } | undefined)?.message_type === 'Pong'), 'the Pong');
    assert.equal(answered.blob, 'p');
    assert.deepEqual(await act({ WebSocketPush: { channel_id: id, message_type: 'Ping' } }, 'x'.repeat(126)), { Err: 'WsPingPongTooLong' });
    assert.deepEqual(await act({ WebSocketPush: { channel_id: id, message_type: 'Text' } }), { Err: 'NoBlob' });
    assert.deepEqual(await act({ WebSocketPush: { channel_id: 12345, message_type: 'Text' } }, 'x'), { Err: 'WsChannelNotFound' });
    assert.deepEqual(await act({ WebSocketPush: { channel_id: id, message_type: 'Shout' } }, 'x'), { Err: 'MalformedRequest' });

    const mark2 = got.length;
    ws.close(1000, 'bye');
    assert.deepEqual((await event('WebSocketClose', mark2)).body, { WebSocketClose: id });
    assert.deepEqual(
      got.slice(mark2).map((g) => g.body),
      [{ WebSocketPush: { channel_id: id, message_type: 'Close' } }, { WebSocketClose: id }],
    );
    assert.equal(got.slice(mark2)[0].blob, 'bye', 'the Close frame\'s reason is the blob');
    assert.equal(http.websocketCount(), 0);
  });

  it('WebSocketClose from the process closes the client, which is then reported as real does', async () => {
    const mark = got.length;
    const ws = await connect('/ws');
    const id = ((await event('WebSocketOpen', mark)).body.WebSocketOpen as { channel_id: number }).channel_id;
    const closed = new Promise((r) => ws.once('close', r));
    assert.deepEqual(await act({ WebSocketClose: id }), { Ok: null });
    await closed;
    assert.equal(http.websocketCount(), 0);
    // Hyperdrive keeps reading until the client's answering Close, then sends WebSocketClose.
    assert.deepEqual((await event('WebSocketClose', mark)).body, { WebSocketClose: id });
  });

  it('needs the login cookie on authenticated binds, and stops serving after WebSocketUnbind', async () => {
    await act({ WebSocketBind: { path: '/private', authenticated: true, extension: false } });
    await assert.rejects(connect('/private'), /HTTP 401/);
    assert.equal(got.some((g) => 'WebSocketOpen' in g.body && (g.body.WebSocketOpen as { path: string }).path === '/private'), false);
    await assert.rejects(connect('/private', { cookie: `hyperware-auth_${OUR}=forged` }), /HTTP 401/);
    const login = await fetch(`http://127.0.0.1:${http.port}/login`, { method: 'POST', body: JSON.stringify({ password_hash: 'secret', subdomain: null }) });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
    (await connect('/private', { cookie })).terminate();
    assert.deepEqual(await act({ WebSocketUnbind: { path: '/private' } }), { Ok: null });
    await assert.rejects(connect('/private', { cookie }), /HTTP 404/);
  });

  it('serves at most 128 WebSockets at once', async () => {
    const open: WebSocket[] = [];
    for (let i = 0; i < 128; i++) open.push(await connect('/ws'));
    assert.equal(http.websocketCount(), 128);
    await assert.rejects(connect('/ws'), /HTTP 503/);
    for (const ws of open) ws.terminate();
    await until(() => (http.websocketCount() === 0 ? true : undefined), 'all sockets to close');
    (await connect('/ws')).terminate();
  });
});
